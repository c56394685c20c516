{{ kpi_values(
    numerator=part(ref('fct_shipments'), 'delivered_day', agg='sum', value='processing_days'),
    denominator=part(ref('fct_shipments'), 'delivered_day'),
) }}
