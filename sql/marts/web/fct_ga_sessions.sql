{{ config(day_column='session_day', window=true) }}

with

sessions as (
    select * from {{ ref('int_ga_sessions_daily') }}
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
