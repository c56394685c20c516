{{ kpi_values(numerator=part(ref('fct_shipments'), 'shipped_day', where='not is_order_cancelled')) }}
