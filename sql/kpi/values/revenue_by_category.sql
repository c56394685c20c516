{{ kpi_values(
    numerator=part(ref('fct_order_lines'), 'placed_day', agg='sum', value='line_revenue',
                   where='not is_cancelled'),
) }}
