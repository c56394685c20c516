{{ kpi_values(
    numerator=part(ref('fct_orders'), 'placed_day', agg='median', value='revenue', where='not is_cancelled'),
) }}
