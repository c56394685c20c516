{{ config(key='customer_id', links={'int_customers': 'customer_id'}) }}

with

customers as (
    select * from {{ ref('int_customers') }}
    where {{ affected('customer_id') }}
),

final as (
    select
        customer_id,
        customer_name,
        segment,
        reseller,
        sales_agent,
        registered_at,
        registered_day,
        credit_limit
    from customers
)

select * from final
