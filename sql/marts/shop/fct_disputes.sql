{{ config(day_column='created_day', key='dispute_id', links={
    'stg_shop__disputes': 'dispute_id',
    'int_orders': {'on': 'order_id', 'reads': 'segment, reseller'},
    'stg_shop__shipments': 'order_id',
}) }}

-- Returns and claims, with the customer of their order and the carrier that shipped it (null
-- when the order was never shipped).
with

disputes as (
    select * from {{ ref('stg_shop__disputes') }}
    where {{ affected('dispute_id') }}
),

orders as (
    select * from {{ ref('int_orders') }}
),

shipments as (
    select * from {{ ref('stg_shop__shipments') }}
),

final as (
    select
        disputes.dispute_id,
        disputes.order_id,
        disputes.created_day,
        disputes.dispute_kind,
        orders.segment,
        orders.reseller,
        shipments.carrier
    from disputes
    left join orders on orders.order_id = disputes.order_id
    left join shipments on shipments.order_id = disputes.order_id
)

select * from final
