{{ config(day_column='spend_day', key='spend_day, platform, campaign', links={
    'int_ad_spend': 'spend_day, platform, campaign',
}) }}

with

ad_spend as (
    select * from {{ ref('int_ad_spend') }}
    where {{ affected('spend_day') }}
),

final as (
    select
        spend_day,
        platform,
        campaign,
        spend,
        impressions,
        clicks
    from ad_spend
)

select * from final
