{{ config(key='spend_day, platform, campaign', links={
    'stg_ga4__google_ads': "spend_day = report_day, platform = 'google_ads', campaign",
    'stg_ad_spend__daily': 'spend_day, platform, campaign',
}) }}

-- Ad spend, impressions and clicks per day, platform and campaign: Google Ads through GA4
-- (advertiserAd* metrics), the other platforms from their CSV exports.
with

google_ads as (
    select * from {{ ref('stg_ga4__google_ads') }}
    where {{ affected('spend_day', 'report_day') }}
),

other_platforms as (
    select * from {{ ref('stg_ad_spend__daily') }}
    where {{ affected('spend_day') }}
),

unioned as (
    select
        report_day as spend_day,
        'google_ads' as platform,
        campaign,
        spend,
        impressions,
        clicks
    from google_ads
    union all
    select
        spend_day,
        platform,
        campaign,
        spend,
        impressions,
        clicks
    from other_platforms
)

select * from unioned
