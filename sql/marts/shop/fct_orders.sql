{{ config(day_column='placed_day', window=true, attribute_dates=['first_web_order_day'], key='order_id',
          links={'int_orders': 'order_id'}) }}

with

orders as (
    select * from {{ ref('int_orders') }}
    where {{ affected('order_id') }}
),

final as (
    select
        order_id,
        customer_id,
        placed_day,
        placed_at,
        is_cancelled,
        order_channel,
        is_web,
        payment_method,
        catalog,
        catalog_kind,
        segment,
        reseller,
        sales_agent,
        acquisition_channel,
        revenue,
        cost,
        margin,
        iso_weekday,
        hour_of_day,
        is_off_hours,
        first_web_order_day
    from orders
)

select * from final
