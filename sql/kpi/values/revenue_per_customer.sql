{{ kpi_values(
    numerator=part(ref('fct_orders'), 'placed_day', agg='sum', value='revenue', where='not is_cancelled'),
    denominator=part(ref('fct_orders'), 'placed_day', agg='distinct', value='customer_id',
                     where='not is_cancelled'),
) }}
