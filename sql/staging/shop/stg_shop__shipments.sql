{{ config(key='shipment_id', indexes=['order_id']) }}

with

source as (
    select * from {{ source('shop', 'shipments') }}
),

renamed as (
    select
        id as shipment_id,
        order_id,
        carrier,
        tracking_code,
        shipped_at,
        {{ business_day('shipped_at') }} as shipped_day,
        promised_date,
        delivered_at,
        {{ business_day('delivered_at') }} as delivered_day,
        updated_at
    from source
)

select * from renamed
