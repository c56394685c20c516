{{ config(key='session_day, device_category, channel_group, new_vs_returning', links={
    'stg_ga4__traffic': 'session_day, device_category, channel_group, new_vs_returning',
}) }}

-- GA4 sessions per business day, device, channel and new/returning. GA4 gives an average session
-- duration per row: times the sessions it is the row's total duration, kept as an exact decimal
-- (microseconds) so that totals do not depend on the order they are summed in.
with

traffic as (
    select * from {{ ref('stg_ga4__traffic') }}
    where {{ affected('session_day') }}
),

daily as (
    select
        session_day,
        device_category,
        channel_group,
        new_vs_returning,
        sum(sessions) as sessions,
        sum(engaged_sessions) as engaged_sessions,
        sum(page_views) as page_views,
        sum(cast(round(cast(average_session_duration * sessions as numeric(24, 9)), 6) as decimal(24, 6)))
            as duration_seconds,
        sum(transactions) as transactions,
        sum(purchase_revenue) as purchase_revenue
    from traffic
    group by session_day, device_category, channel_group, new_vs_returning
)

select * from daily
