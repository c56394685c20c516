{{ config(key='customer_id') }}

with

source as (
    select * from {{ source('shop', 'customers') }}
),

renamed as (
    select
        id as customer_id,
        name as customer_name,
        segment,
        reseller_id,
        sales_agent_id,
        catalog_id,
        country,
        credit_limit,
        registered_at,
        {{ business_day('registered_at') }} as registered_day,
        crm_contact_id,
        created_at,
        updated_at
    from source
)

select * from renamed
