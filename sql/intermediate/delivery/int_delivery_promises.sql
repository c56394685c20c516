{{ config(key='shipment_id', links={
    'stg_shop__shipments': 'shipment_id',
    'int_orders': {'on': 'order_id', 'reads': 'placed_at, is_cancelled, revenue'},
}) }}

-- Each shipment against the delivery date promised to the customer at order time: late when the
-- business day it was delivered is after the promised date.
with

shipments as (
    select * from {{ ref('stg_shop__shipments') }}
    where {{ affected('shipment_id') }}
),

orders as (
    select * from {{ ref('int_orders') }}
),

joined as (
    select
        shipments.shipment_id,
        shipments.order_id,
        shipments.carrier,
        shipments.tracking_code,
        shipments.shipped_at,
        shipments.shipped_day,
        shipments.promised_date,
        shipments.delivered_at,
        shipments.delivered_day,
        shipments.delivered_day > shipments.promised_date as is_late,
        {{ seconds_between('orders.placed_at', 'shipments.delivered_at') }} / 86400.0 as processing_days,
        coalesce(orders.is_cancelled, false) as is_order_cancelled,
        orders.revenue as order_revenue
    from shipments
    left join orders on orders.order_id = shipments.order_id
)

select * from joined
