{{ config(key='customer_id', links={
    'stg_shop__customers': 'customer_id',
    'stg_shop__resellers': 'reseller_id',
    'stg_shop__sales_agents': 'sales_agent_id',
    'stg_shop__orders': {'on': 'customer_id', 'reads': 'placed_at, placed_day, is_cancelled, order_channel'},
}) }}

-- Customer companies with the names their slices show (reseller, account manager), their first
-- order (the earliest order, not cancelled, placed at or after registration) and their first web
-- order day (retention: "ordered on the web before this period"; any web order, not cancelled).
with

customers as (
    select * from {{ ref('stg_shop__customers') }}
    where {{ affected('customer_id') }}
),

resellers as (
    select * from {{ ref('stg_shop__resellers') }}
),

sales_agents as (
    select * from {{ ref('stg_shop__sales_agents') }}
),

orders as (
    select * from {{ ref('stg_shop__orders') }}
    where not is_cancelled
),

web_orders as (
    select * from {{ ref('stg_shop__orders') }}
    where not is_cancelled and order_channel = 'web'
),

-- each first is one look in the orders' index by customer and placement time, not a pass over
-- all of the customer's orders (a customer of years has hundreds)
first_orders as (
    select
        customers.customer_id,
        (
            select min(orders.placed_at) from orders
            where orders.customer_id = customers.customer_id and orders.placed_at >= customers.registered_at
        ) as first_order_at,
        (
            select min(web_orders.placed_at) from web_orders
            where web_orders.customer_id = customers.customer_id
        ) as first_web_order_at
    from customers
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
        {{ business_day('first_orders.first_order_at') }} as first_order_day,
        {{ business_day('first_orders.first_web_order_at') }} as first_web_order_day
    from customers
    left join resellers on resellers.reseller_id = customers.reseller_id
    left join sales_agents on sales_agents.sales_agent_id = customers.sales_agent_id
    left join first_orders on first_orders.customer_id = customers.customer_id
)

select * from joined
