{{ kpi_values(numerator=part(ref('fct_contacts'), 'created_day')) }}
