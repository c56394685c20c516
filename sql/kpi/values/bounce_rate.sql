-- GA4's bounce rate: sessions that were not engaged, over all sessions.
{{ kpi_values(
    numerator=part(ref('fct_ga_sessions'), 'session_day', agg='sum', value='sessions - engaged_sessions'),
    denominator=part(ref('fct_ga_sessions'), 'session_day', agg='sum', value='sessions'),
) }}
