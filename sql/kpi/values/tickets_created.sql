{{ kpi_values(numerator=part(ref('fct_tickets'), 'created_day')) }}
