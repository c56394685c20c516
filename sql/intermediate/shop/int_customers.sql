-- Customer companies with the names their slices show (reseller, account manager) and their first
-- order: the earliest order, not cancelled, placed at or after registration.
with

customers as (
    select * from {{ ref('stg_shop__customers') }}
),

resellers as (
    select * from {{ ref('stg_shop__resellers') }}
),

sales_agents as (
    select * from {{ ref('stg_shop__sales_agents') }}
),

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

first_orders as (
    select
        customers.customer_id,
        min(orders.placed_at) as first_order_at
    from customers
    inner join orders
        on orders.customer_id = customers.customer_id
        and orders.placed_at >= customers.registered_at
        and not orders.is_cancelled
    group by customers.customer_id
),

joined as (
    select
        customers.customer_id,
        customers.customer_name,
        customers.segment,
        customers.reseller_id,
        resellers.reseller_name as reseller,
        customers.sales_agent_id,
        sales_agents.sales_agent_name as sales_agent,
        customers.catalog_id,
        customers.credit_limit,
        customers.registered_at,
        customers.registered_day,
        customers.crm_contact_id,
        first_orders.first_order_at,
        {{ business_day('first_orders.first_order_at') }} as first_order_day
    from customers
    left join resellers on resellers.reseller_id = customers.reseller_id
    left join sales_agents on sales_agents.sales_agent_id = customers.sales_agent_id
    left join first_orders on first_orders.customer_id = customers.customer_id
)

select * from joined
