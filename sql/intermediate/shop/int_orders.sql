{{ config(key='order_id', indexes=[['customer_id', 'placed_at', 'is_cancelled', 'placed_day', 'revenue', 'units']], links={
    'stg_shop__orders': 'order_id',
    'stg_shop__order_lines': {'on': 'order_id', 'reads': 'quantity'},
    'int_customers': {'on': 'customer_id', 'reads': 'segment, reseller, sales_agent, first_web_order_day'},
    'stg_shop__catalogs': 'catalog_id',
    'calendar_days': 'placed_day = day',
}) }}

-- Orders with everything their KPIs are cut by: the customer's segment, reseller and account
-- manager, the catalogue, the acquisition channel (kpis.yml rules), the business-local weekday and
-- hour, whether it was placed outside office hours, the customer's first web order day
-- (retention: "ordered on the web before this period") and the units ordered (its lines' quantity).
with

orders as (
    select * from {{ ref('stg_shop__orders') }}
    where {{ affected('order_id') }}
),

customers as (
    select * from {{ ref('int_customers') }}
),

lines as (
    select * from {{ ref('stg_shop__order_lines') }}
    where {{ affected('order_id') }}
),

units as (
    select
        order_id,
        sum(quantity) as units
    from lines
    group by order_id
),

catalogs as (
    select * from {{ ref('stg_shop__catalogs') }}
),

calendar as (
    select * from {{ ref('calendar_days') }}
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
        customers.first_web_order_day,
        coalesce(units.units, 0) as units
    from orders
    left join customers on customers.customer_id = orders.customer_id
    left join catalogs on catalogs.catalog_id = orders.catalog_id
    left join units on units.order_id = orders.order_id
    left join calendar on calendar.day = orders.placed_day
)

select * from joined
