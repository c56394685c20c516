{{ kpi_values(
    numerator=part(ref('fct_order_lines'), 'placed_day', agg='distinct', value='product_type',
                   where='not is_cancelled'),
) }}
