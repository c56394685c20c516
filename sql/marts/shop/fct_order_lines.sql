{{ config(day_column='placed_day', key='line_id', links={'int_order_lines': 'line_id'}) }}

with

lines as (
    select * from {{ ref('int_order_lines') }}
    where {{ affected('line_id') }}
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
