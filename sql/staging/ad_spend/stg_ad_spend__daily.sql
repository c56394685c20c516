{{ config(key='spend_day, platform, campaign') }}

-- LinkedIn and Microsoft Ads exports (Google Ads spend comes from GA4).
with

source as (
    select * from {{ source('ad_spend', 'daily') }}
),

renamed as (
    select
        date as spend_day,
        platform,
        campaign,
        campaign_id,
        impressions,
        clicks,
        spend,
        currency,
        source_file
    from source
)

select * from renamed
