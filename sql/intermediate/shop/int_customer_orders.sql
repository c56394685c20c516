{{ config(key='customer_id', links={
    'int_customers': {'on': 'customer_id', 'reads': 'registered_at'},
    'int_orders': {'on': 'customer_id', 'reads': 'placed_at, placed_day, is_cancelled, revenue, units'},
}) }}

-- Each registered customer's orders, units and revenue since registration (orders not cancelled,
-- placed at or after registering), and its first and last such order.
with

customers as (
    select * from {{ ref('int_customers') }}
    where registered_at is not null and {{ affected('customer_id') }}
),

orders as (
    select * from {{ ref('int_orders') }}
    where not is_cancelled and {{ affected('customer_id') }}
),

final as (
    select
        customers.customer_id,
        cast(count(orders.customer_id) as bigint) as orders_since_registration,
        cast(coalesce(sum(orders.units), 0) as bigint) as products_since_registration,
        cast(coalesce(sum(orders.revenue), 0) as decimal(18, 2)) as revenue_since_registration,
        min(orders.placed_at) as first_placed_at,
        max(orders.placed_at) as last_placed_at,
        max(orders.placed_day) as last_placed_day
    from customers
    left join orders
        on orders.customer_id = customers.customer_id
        and orders.placed_at >= customers.registered_at
    group by customers.customer_id
)

select * from final
