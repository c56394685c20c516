{{ kpi_values(
    numerator=part(ref('fct_ga_sessions'), 'session_day', agg='sum', value='sessions'),
    denominator=period_part(ref('fct_ga_users'), value='total_users', slices=['device']),
) }}
