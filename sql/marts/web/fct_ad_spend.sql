{{ config(day_column='spend_day') }}

with

ad_spend as (
    select * from {{ ref('int_ad_spend') }}
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
