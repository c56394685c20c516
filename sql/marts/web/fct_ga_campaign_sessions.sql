{{ config(day_column='report_day', key='report_day, campaign, source_medium', links={
    'stg_ga4__campaigns': 'report_day, campaign, source_medium',
    'dim_paid_campaigns': 'campaign',
}) }}

-- GA4 sessions, transactions and purchase revenue per day and campaign; sessions are dated by their
-- start, transactions by the purchase.
with

campaigns as (
    select * from {{ ref('stg_ga4__campaigns') }}
    where {{ affected('report_day') }}
),

paid_campaigns as (
    select * from {{ ref('dim_paid_campaigns') }}
),

final as (
    select
        campaigns.report_day,
        campaigns.campaign,
        campaigns.source_medium,
        paid_campaigns.platform,
        paid_campaigns.campaign is not null as is_paid,
        campaigns.sessions,
        campaigns.transactions,
        campaigns.purchase_revenue
    from campaigns
    left join paid_campaigns on paid_campaigns.campaign = campaigns.campaign
)

select * from final
