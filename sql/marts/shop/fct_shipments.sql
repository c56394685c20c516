{{ config(day_column='shipped_day', key='shipment_id', links={'int_delivery_promises': 'shipment_id'}) }}

with

promises as (
    select * from {{ ref('int_delivery_promises') }}
    where {{ affected('shipment_id') }}
),

final as (
    select
        shipment_id,
        order_id,
        carrier,
        shipped_day,
        delivered_day,
        promised_date,
        is_late,
        processing_days,
        is_order_cancelled,
        order_revenue
    from promises
)

select * from final
