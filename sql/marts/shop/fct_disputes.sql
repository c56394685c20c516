{{ config(day_column='created_day') }}

-- Returns and claims, with the customer of their order and the carrier that shipped it (null
-- when the order was never shipped).
with

disputes as (
    select * from {{ ref('stg_shop__disputes') }}
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
