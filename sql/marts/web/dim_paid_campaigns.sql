{{ config(key='campaign, platform', links={'int_ad_spend': 'campaign, platform'}) }}

-- A paid campaign is a campaign name with at least one ad-spend row (any day, any platform); its
-- platform is that of its spend rows.
with

ad_spend as (
    select * from {{ ref('int_ad_spend') }}
    where {{ affected('campaign') }}
),

final as (
    select distinct
        campaign,
        platform
    from ad_spend
)

select * from final
