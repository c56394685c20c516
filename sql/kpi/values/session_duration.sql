{{ kpi_values(
    numerator=part(ref('fct_ga_sessions'), 'session_day', agg='sum', value='duration_seconds'),
    denominator=part(ref('fct_ga_sessions'), 'session_day', agg='sum', value='sessions'),
) }}
