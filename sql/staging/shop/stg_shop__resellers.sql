{{ config(key='reseller_id') }}

with

source as (
    select * from {{ source('shop', 'resellers') }}
),

renamed as (
    select
        id as reseller_id,
        name as reseller_name,
        created_at,
        updated_at
    from source
)

select * from renamed
