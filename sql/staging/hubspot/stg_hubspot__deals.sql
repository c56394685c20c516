{{ config(key='deal_id') }}

with

source as (
    select * from {{ source('hubspot', 'deals') }}
),

renamed as (
    select
        id as deal_id,
        archived as is_archived,
        dealname as deal_name,
        pipeline,
        dealstage as deal_stage,
        amount,
        closedate as closed_at,
        createdate as created_at,
        hubspot_owner_id as owner_id,
        pulse_quote_id as quote_id,
        hs_lastmodifieddate as updated_at
    from source
)

select * from renamed
