{{ config(key='date_hour, device_category, channel_group, new_vs_returning', indexes=['session_day']) }}

-- GA4 reports dateHour in the property's time zone; the connector gives each hour's start in UTC,
-- from which the business day follows exactly whatever the property's zone.
with

source as (
    select * from {{ source('ga4', 'traffic') }}
),

renamed as (
    select
        hour_start,
        {{ business_day('hour_start') }} as session_day,
        date as property_day,
        date_hour,
        property_time_zone,
        device_category,
        channel_group,
        new_vs_returning,
        sessions,
        engaged_sessions,
        screen_page_views as page_views,
        average_session_duration,
        user_engagement_duration,
        transactions,
        purchase_revenue,
        key_events
    from source
)

select * from renamed
