{{ kpi_values(
    numerator=part(ref('fct_order_lines'), 'placed_day', agg='sum', value='quantity',
                   where='not is_cancelled'),
    denominator=part(ref('fct_orders'), 'placed_day', where='not is_cancelled'),
) }}
