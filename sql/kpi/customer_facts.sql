-- K1-K7, one row per customer registered by now: orders, units and revenue since registration,
-- buyer accounts, days since the last order up to the as-of day (the refresh's last business day),
-- average days between orders and credit usage (int_customer_orders, int_customer_accounts).
with

customers as (
    select * from {{ ref('dim_customers') }}
    where registered_at is not null
),

orders as (
    select * from {{ ref('int_customer_orders') }}
),

accounts as (
    select * from {{ ref('int_customer_accounts') }}
),

final as (
    select
        customers.customer_id,
        customers.customer_name,
        customers.segment,
        coalesce(customers.reseller, '{{ slice_null_label("reseller") }}') as reseller,
        customers.registered_at,
        orders.orders_since_registration,
        orders.products_since_registration,
        orders.revenue_since_registration,
        coalesce(accounts.buyer_accounts, 0) as buyer_accounts,
        cast(cast('{{ var("through") }}' as date) - orders.last_placed_day as bigint) as days_since_last_order,
        case
            when orders.orders_since_registration >= 2 then
                {{ seconds_between('orders.first_placed_at', 'orders.last_placed_at') }}
                / 86400.0 / (orders.orders_since_registration - 1)
        end as avg_days_between_orders,
        customers.credit_limit,
        coalesce(accounts.credit_used, 0) as credit_used,
        cast(coalesce(accounts.credit_used, 0) as double precision)
            / nullif(cast(customers.credit_limit as double precision), 0) as credit_usage_rate
    from customers
    inner join orders on orders.customer_id = customers.customer_id
    left join accounts on accounts.customer_id = customers.customer_id
)

select * from final
