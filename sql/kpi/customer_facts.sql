-- K1-K7, one row per customer registered by now: orders, units and revenue since registration
-- (orders not cancelled, placed at or after registering), buyer accounts, days since the last
-- order up to the as-of day (the refresh's last business day), average days between orders and
-- credit usage (invoices issued and not yet paid).
with

customers as (
    select * from {{ ref('dim_customers') }}
    where registered_at is not null
),

orders as (
    select * from {{ ref('int_orders') }}
),

lines as (
    select * from {{ ref('int_order_lines') }}
),

buyers as (
    select * from {{ ref('stg_shop__buyers') }}
),

invoices as (
    select * from {{ ref('stg_shop__invoices') }}
),

orders_since_registration as (
    select
        orders.order_id,
        orders.customer_id,
        orders.placed_at,
        orders.placed_day,
        orders.revenue
    from orders
    inner join customers
        on customers.customer_id = orders.customer_id
        and orders.placed_at >= customers.registered_at
    where not orders.is_cancelled
),

order_totals as (
    select
        customer_id,
        count(*) as orders,
        sum(revenue) as revenue,
        min(placed_at) as first_placed_at,
        max(placed_at) as last_placed_at,
        max(placed_day) as last_placed_day
    from orders_since_registration
    group by customer_id
),

units as (
    select
        orders_since_registration.customer_id,
        sum(lines.quantity) as units
    from lines
    inner join orders_since_registration on orders_since_registration.order_id = lines.order_id
    group by orders_since_registration.customer_id
),

buyer_accounts as (
    select customer_id, count(*) as buyer_accounts
    from buyers
    where registered_at is not null
    group by customer_id
),

credit_used as (
    select customer_id, sum(amount) as credit_used
    from invoices
    where paid_at is null
    group by customer_id
),

final as (
    select
        customers.customer_id,
        customers.customer_name,
        customers.segment,
        coalesce(customers.reseller, '{{ slice_null_label("reseller") }}') as reseller,
        customers.registered_at,
        cast(coalesce(order_totals.orders, 0) as bigint) as orders_since_registration,
        cast(coalesce(units.units, 0) as bigint) as products_since_registration,
        cast(coalesce(order_totals.revenue, 0) as decimal(18, 2)) as revenue_since_registration,
        cast(coalesce(buyer_accounts.buyer_accounts, 0) as bigint) as buyer_accounts,
        cast(cast('{{ var("through") }}' as date) - order_totals.last_placed_day as bigint)
            as days_since_last_order,
        case
            when order_totals.orders >= 2 then
                {{ seconds_between('order_totals.first_placed_at', 'order_totals.last_placed_at') }}
                / 86400.0 / (order_totals.orders - 1)
        end as avg_days_between_orders,
        customers.credit_limit,
        cast(coalesce(credit_used.credit_used, 0) as decimal(18, 2)) as credit_used,
        cast(coalesce(credit_used.credit_used, 0) as double precision)
            / nullif(cast(customers.credit_limit as double precision), 0) as credit_usage_rate
    from customers
    left join order_totals on order_totals.customer_id = customers.customer_id
    left join units on units.customer_id = customers.customer_id
    left join buyer_accounts on buyer_accounts.customer_id = customers.customer_id
    left join credit_used on credit_used.customer_id = customers.customer_id
)

select * from final
