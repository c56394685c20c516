{{ config(key='grain, period_start, device_category') }}

-- Distinct users as GA4 counts them per day, ISO week, month and quarter (not additive);
-- device_category 'all' is the total over devices.
with

source as (
    select * from {{ source('ga4', 'users') }}
),

renamed as (
    select
        grain,
        period_start,
        range_end,
        device_category,
        total_users,
        new_users,
        active_users,
        property_time_zone
    from source
)

select * from renamed
