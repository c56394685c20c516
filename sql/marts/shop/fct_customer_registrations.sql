{{ config(day_column='registered_day', key='customer_id', links={'int_customers': 'customer_id'}) }}

-- One row per registered customer, dated by registration, with its first order (the cohort
-- behind "registration to first order").
with

customers as (
    select * from {{ ref('int_customers') }}
    where {{ affected('customer_id') }}
),

final as (
    select
        customer_id,
        registered_day,
        first_order_day,
        first_order_at is not null as has_first_order,
        {{ seconds_between('registered_at', 'first_order_at') }} / 86400.0 as days_to_first_order,
        segment,
        reseller,
        sales_agent
    from customers
    where registered_at is not null
)

select * from final
