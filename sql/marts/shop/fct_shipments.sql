{{ config(day_column='shipped_day') }}

with

promises as (
    select * from {{ ref('int_delivery_promises') }}
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
