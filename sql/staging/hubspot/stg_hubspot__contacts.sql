{{ config(key='contact_id') }}

with

source as (
    select * from {{ source('hubspot', 'contacts') }}
),

renamed as (
    select
        id as contact_id,
        archived as is_archived,
        company,
        lifecyclestage as lifecycle_stage,
        createdate as created_at,
        {{ business_day('createdate') }} as created_day,
        hs_lifecyclestage_subscriber_date as subscriber_at,
        hs_lifecyclestage_lead_date as lead_at,
        {{ business_day('hs_lifecyclestage_lead_date') }} as lead_day,
        hs_lifecyclestage_marketingqualifiedlead_date as mql_at,
        {{ business_day('hs_lifecyclestage_marketingqualifiedlead_date') }} as mql_day,
        hs_lifecyclestage_salesqualifiedlead_date as sql_at,
        {{ business_day('hs_lifecyclestage_salesqualifiedlead_date') }} as sql_day,
        hs_lifecyclestage_opportunity_date as opportunity_at,
        hs_lifecyclestage_customer_date as customer_at,
        hs_persona as persona,
        hs_analytics_source as lead_source,
        utm_campaign as campaign,
        hubspot_owner_id as owner_id,
        pulse_customer_id as customer_id,
        lastmodifieddate as updated_at
    from source
)

select * from renamed
