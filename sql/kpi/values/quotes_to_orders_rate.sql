{{ kpi_values(
    numerator=part(ref('fct_quotes'), 'requested_day'),
    denominator=part(ref('fct_orders'), 'placed_day', where='not is_cancelled'),
) }}
