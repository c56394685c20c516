{{ config(key='sample_id') }}

with

source as (
    select * from {{ source('site_speed', 'samples') }}
),

renamed as (
    select
        sample_id,
        measured_at,
        {{ business_day('measured_at') }} as measured_day,
        url,
        page_type,
        device,
        load_time_ms,
        source_file
    from source
)

select * from renamed
