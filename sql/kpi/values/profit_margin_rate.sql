-- Per category, margin and revenue of order lines (an order mixes categories).
{{ kpi_values(
    numerator=part(ref('fct_orders'), 'placed_day', agg='sum', value='margin', where='not is_cancelled'),
    denominator=part(ref('fct_orders'), 'placed_day', agg='sum', value='revenue', where='not is_cancelled'),
    by_slice={'category': measure(
        part(ref('fct_order_lines'), 'placed_day', agg='sum', value='line_margin', where='not is_cancelled'),
        part(ref('fct_order_lines'), 'placed_day', agg='sum', value='line_revenue', where='not is_cancelled'),
    )},
) }}
