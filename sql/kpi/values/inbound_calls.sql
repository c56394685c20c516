{{ kpi_values(numerator=part(ref('fct_inbound_calls'), 'started_day')) }}
