{{ config(key='line_id', indexes=['order_id']) }}

with

source as (
    select * from {{ source('shop', 'order_lines') }}
),

renamed as (
    select
        id as line_id,
        order_id,
        product_id,
        quantity,
        unit_list_price,
        unit_price,
        unit_cost,
        updated_at
    from source
)

select * from renamed
