{{ config(key='sales_agent_id') }}

with

source as (
    select * from {{ source('shop', 'sales_agents') }}
),

renamed as (
    select
        id as sales_agent_id,
        name as sales_agent_name,
        email,
        hubspot_owner_id,
        created_at,
        updated_at
    from source
)

select * from renamed
