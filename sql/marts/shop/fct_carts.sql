{{ config(day_column='created_day') }}

with

carts as (
    select * from {{ ref('stg_shop__carts') }}
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
