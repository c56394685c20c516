{{ config(key='cart_id') }}

with

source as (
    select * from {{ source('shop', 'carts') }}
),

renamed as (
    select
        id as cart_id,
        customer_id,
        buyer_id,
        created_at,
        {{ business_day('created_at') }} as created_day,
        status,
        ordered_at,
        abandoned_at,
        order_id,
        item_count,
        value as cart_value,
        updated_at
    from source
)

select * from renamed
