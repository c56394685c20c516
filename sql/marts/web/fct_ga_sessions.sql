{{ config(day_column='session_day', window=true, key='session_day, device, channel, new_vs_returning', links={
    'int_ga_sessions_daily': 'session_day, device = device_category, channel = channel_group, new_vs_returning',
}) }}

with

sessions as (
    select * from {{ ref('int_ga_sessions_daily') }}
    where {{ affected('session_day') }}
),

final as (
    select
        session_day,
        device_category as device,
        channel_group as channel,
        new_vs_returning,
        sessions,
        engaged_sessions,
        page_views,
        duration_seconds,
        transactions,
        purchase_revenue
    from sessions
)

select * from final
