{{ kpi_values(
    numerator=part(ref('fct_tickets'), 'solved_day', agg='sum', value='resolution_hours'),
    denominator=part(ref('fct_tickets'), 'solved_day'),
) }}
