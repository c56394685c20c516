{{ config(key='report_day, campaign') }}

with

source as (
    select * from {{ source('ga4', 'google_ads') }}
),

renamed as (
    select
        date as report_day,
        campaign_name as campaign,
        advertiser_ad_cost as spend,
        advertiser_ad_impressions as impressions,
        advertiser_ad_clicks as clicks,
        property_time_zone
    from source
)

select * from renamed
