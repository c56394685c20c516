{{ kpi_values(
    numerator=part(ref('fct_shipments'), 'shipped_day', agg='sum', value='order_revenue',
                   where='not is_order_cancelled'),
) }}
