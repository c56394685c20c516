{{ config(day_column='measured_day') }}

with

samples as (
    select * from {{ ref('stg_site_speed__samples') }}
),

final as (
    select
        sample_id,
        measured_day,
        device,
        page_type,
        cast(load_time_ms / 1000.0 as decimal(18, 3)) as load_seconds
    from samples
)

select * from final
