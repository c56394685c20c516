{{ config(key='product_id') }}

with

source as (
    select * from {{ source('shop', 'products') }}
),

renamed as (
    select
        id as product_id,
        sku,
        name as product_name,
        category,
        product_type,
        list_price,
        unit_cost,
        created_at,
        updated_at
    from source
)

select * from renamed
