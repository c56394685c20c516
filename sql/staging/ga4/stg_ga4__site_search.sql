{{ config(key='report_day, search_term') }}

with

source as (
    select * from {{ source('ga4', 'site_search') }}
),

renamed as (
    select
        date as report_day,
        search_term,
        event_count as searches,
        property_time_zone
    from source
)

select * from renamed
