{{ kpi_values(
    numerator=part(ref('fct_tickets'), 'created_day'),
    denominator=part(ref('fct_orders'), 'placed_day', where='not is_cancelled'),
) }}
