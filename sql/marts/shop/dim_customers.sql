with

customers as (
    select * from {{ ref('int_customers') }}
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
