{{ config(day_column='created_day', key='cart_id', links={
    'stg_shop__carts': 'cart_id',
    'int_customers': {'on': 'customer_id', 'reads': 'segment, reseller'},
}) }}

with

carts as (
    select * from {{ ref('stg_shop__carts') }}
    where {{ affected('cart_id') }}
),

customers as (
    select * from {{ ref('int_customers') }}
),

final as (
    select
        carts.cart_id,
        carts.customer_id,
        carts.created_day,
        carts.status,
        carts.cart_value,
        customers.segment,
        customers.reseller
    from carts
    left join customers on customers.customer_id = carts.customer_id
)

select * from final
