{{ kpi_values(numerator=part(ref('fct_orders'), 'placed_day', where='is_web and not is_cancelled')) }}
