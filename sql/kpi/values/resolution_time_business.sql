{{ kpi_values(
    numerator=part(ref('fct_tickets'), 'solved_day', agg='sum', value='resolution_business_hours'),
    denominator=part(ref('fct_tickets'), 'solved_day'),
) }}
