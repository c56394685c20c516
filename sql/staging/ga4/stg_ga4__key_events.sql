{{ config(key='report_day, event_name') }}

with

source as (
    select * from {{ source('ga4', 'key_events') }}
),

renamed as (
    select
        date as report_day,
        event_name,
        key_events,
        property_time_zone
    from source
)

select * from renamed
