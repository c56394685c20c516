{{ kpi_values(
    numerator=part(ref('fct_quotes'), 'first_action_day', agg='sum', value='first_action_business_hours'),
    denominator=part(ref('fct_quotes'), 'first_action_day'),
) }}
