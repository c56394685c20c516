{{ kpi_values(
    numerator=part(ref('fct_quotes'), 'ordered_day', agg='median', value='order_days'),
) }}
