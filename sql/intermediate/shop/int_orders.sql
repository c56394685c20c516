-- Orders with everything their KPIs are cut by: the customer's segment, reseller and account
-- manager, the catalogue, the acquisition channel (kpis.yml rules), the business-local weekday and
-- hour, whether it was placed outside office hours, and the customer's first web order day
-- (retention: "ordered on the web before this period").
with

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

customers as (
    select * from {{ ref('int_customers') }}
),

catalogs as (
    select * from {{ ref('stg_shop__catalogs') }}
),

calendar as (
    select * from {{ ref('calendar_days') }}
),

first_web_orders as (
    select
        customer_id,
        min(placed_day) as first_web_order_day
    from orders
    where order_channel = 'web' and not is_cancelled
    group by customer_id
),

joined as (
    select
        orders.order_id,
        orders.customer_id,
        orders.placed_at,
        orders.placed_day,
        orders.is_cancelled,
        orders.order_channel,
        orders.order_channel = 'web' as is_web,
        orders.payment_method,
        orders.catalog_id,
        catalogs.catalog_name as catalog,
        catalogs.catalog_kind,
        customers.segment,
        customers.reseller,
        customers.sales_agent,
        {{ acquisition_channel('orders.order_channel', 'orders.utm_source', 'orders.utm_medium') }}
            as acquisition_channel,
        orders.revenue,
        orders.cost,
        orders.revenue - orders.cost as margin,
        cast(extract(isodow from orders.placed_local_at) as integer) as iso_weekday,
        cast(extract(hour from orders.placed_local_at) as integer) as hour_of_day,
        not {{ in_office_hours('orders.placed_at', 'calendar') }} as is_off_hours,
        first_web_orders.first_web_order_day
    from orders
    left join customers on customers.customer_id = orders.customer_id
    left join catalogs on catalogs.catalog_id = orders.catalog_id
    left join calendar on calendar.day = orders.placed_day
    left join first_web_orders on first_web_orders.customer_id = orders.customer_id
)

select * from joined
