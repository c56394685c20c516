-- The all row counts disputes of shipped orders over all deliveries.
{{ kpi_values(
    numerator=part(ref('fct_disputes'), 'created_day', where='carrier is not null'),
    denominator=part(ref('fct_shipments'), 'delivered_day'),
) }}
