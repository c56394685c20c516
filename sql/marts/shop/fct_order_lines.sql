{{ config(day_column='placed_day') }}

with

lines as (
    select * from {{ ref('int_order_lines') }}
),

final as (
    select
        line_id,
        order_id,
        customer_id,
        placed_day,
        is_cancelled,
        order_channel,
        catalog,
        segment,
        sales_agent,
        category,
        product_type,
        quantity,
        line_revenue,
        line_cost,
        line_margin
    from lines
)

select * from final
