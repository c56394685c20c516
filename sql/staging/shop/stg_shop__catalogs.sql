{{ config(key='catalog_id') }}

with

source as (
    select * from {{ source('shop', 'catalogs') }}
),

renamed as (
    select
        id as catalog_id,
        name as catalog_name,
        kind as catalog_kind,
        customer_id as owner_customer_id,
        created_at,
        updated_at
    from source
)

select * from renamed
