{{ kpi_values(
    numerator=part(ref('fct_customer_registrations'), 'first_order_day', agg='median',
                   value='days_to_first_order'),
) }}
