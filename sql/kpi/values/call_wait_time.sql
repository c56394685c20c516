-- Unanswered calls have no wait time: they lower the answer rate instead.
{{ kpi_values(
    numerator=part(ref('fct_inbound_calls'), 'started_day', agg='sum', value='wait_seconds',
                   where='is_answered'),
    denominator=part(ref('fct_inbound_calls'), 'started_day', where='is_answered'),
) }}
