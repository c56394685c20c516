{{ config(key='buyer_id', indexes=['customer_id']) }}

with

source as (
    select * from {{ source('shop', 'buyers') }}
),

renamed as (
    select
        id as buyer_id,
        customer_id,
        email,
        name as buyer_name,
        registered_at,
        created_at,
        updated_at
    from source
)

select * from renamed
