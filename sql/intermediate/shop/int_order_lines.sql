{{ config(key='line_id', indexes=['customer_id'], links={
    'stg_shop__order_lines': 'line_id',
    'stg_shop__products': 'product_id',
    'int_orders': {'on': 'order_id', 'reads': 'customer_id, placed_day, is_cancelled, order_channel, catalog, segment, sales_agent'},
}) }}

-- Order lines priced at what was charged, with their product's category and type and their
-- order's attributes.
with

lines as (
    select * from {{ ref('stg_shop__order_lines') }}
    where {{ affected('line_id') }}
),

products as (
    select * from {{ ref('stg_shop__products') }}
),

orders as (
    select * from {{ ref('int_orders') }}
),

joined as (
    select
        lines.line_id,
        lines.order_id,
        lines.product_id,
        orders.customer_id,
        orders.placed_day,
        orders.is_cancelled,
        orders.order_channel,
        orders.catalog,
        orders.segment,
        orders.sales_agent,
        products.category,
        products.product_type,
        lines.quantity,
        lines.quantity * lines.unit_price as line_revenue,
        lines.quantity * lines.unit_cost as line_cost,
        lines.quantity * lines.unit_price - lines.quantity * lines.unit_cost as line_margin
    from lines
    inner join orders on orders.order_id = lines.order_id
    left join products on products.product_id = lines.product_id
)

select * from joined
