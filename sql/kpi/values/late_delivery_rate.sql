{{ kpi_values(
    numerator=part(ref('fct_shipments'), 'delivered_day', where='is_late'),
    denominator=part(ref('fct_shipments'), 'delivered_day'),
) }}
