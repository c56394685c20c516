{{ kpi_values(numerator=part(ref('fct_contacts'), 'qualified_day')) }}
