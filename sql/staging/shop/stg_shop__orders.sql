{{ config(key='order_id', indexes=[['customer_id', 'placed_at']]) }}

with

source as (
    select * from {{ source('shop', 'orders') }}
),

renamed as (
    select
        id as order_id,
        customer_id,
        buyer_id,
        placed_at,
        {{ business_day('placed_at') }} as placed_day,
        {{ local_time('placed_at') }} as placed_local_at,
        channel as order_channel,
        catalog_id,
        quote_id,
        cart_id,
        payment_method,
        status,
        status = 'cancelled' as is_cancelled,
        cancelled_at,
        revenue,
        cost,
        utm_source,
        utm_medium,
        utm_campaign,
        updated_at
    from source
)

select * from renamed
