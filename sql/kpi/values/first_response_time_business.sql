{{ kpi_values(
    numerator=part(ref('fct_tickets'), 'first_reply_day', agg='sum', value='first_reply_business_hours'),
    denominator=part(ref('fct_tickets'), 'first_reply_day'),
) }}
