-- Dated by the first reply, like Zendesk's reply-time metrics, so open periods are not censored.
{{ kpi_values(
    numerator=part(ref('fct_tickets'), 'first_reply_day', agg='sum', value='first_reply_hours'),
    denominator=part(ref('fct_tickets'), 'first_reply_day'),
) }}
