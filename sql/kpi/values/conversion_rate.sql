-- Orders come from the shop, so a GA tracking gap raises this ratio.
{{ kpi_values(
    numerator=part(ref('fct_orders'), 'placed_day', where='is_web and not is_cancelled'),
    denominator=part(ref('fct_ga_sessions'), 'session_day', agg='sum', value='sessions'),
) }}
