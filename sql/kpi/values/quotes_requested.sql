{{ kpi_values(numerator=part(ref('fct_quotes'), 'requested_day')) }}
