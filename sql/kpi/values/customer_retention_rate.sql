-- Customers ordering digitally again: web customers of the period whose first web order was
-- before the period started, over all web customers of the period.
{{ kpi_values(
    numerator=part(ref('fct_orders'), 'placed_day', agg='distinct', value='customer_id',
                   where='is_web and not is_cancelled',
                   period_filter='r.first_web_order_day < p.period_start'),
    denominator=part(ref('fct_orders'), 'placed_day', agg='distinct', value='customer_id',
                     where='is_web and not is_cancelled'),
) }}
