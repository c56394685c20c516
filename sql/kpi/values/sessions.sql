{{ kpi_values(numerator=part(ref('fct_ga_sessions'), 'session_day', agg='sum', value='sessions')) }}
