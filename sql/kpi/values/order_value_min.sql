{{ kpi_values(
    numerator=part(ref('fct_orders'), 'placed_day', agg='min', value='revenue', where='not is_cancelled'),
) }}
