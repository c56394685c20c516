{{ config(key='report_day, page_path') }}

-- page_exit events (the site tag sends one on pagehide; GA4 has no exits metric).
with

source as (
    select * from {{ source('ga4', 'exit_pages') }}
),

renamed as (
    select
        date as report_day,
        page_path,
        event_count as exits,
        property_time_zone
    from source
)

select * from renamed
