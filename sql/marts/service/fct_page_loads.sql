{{ config(day_column='measured_day', key='sample_id', links={'stg_site_speed__samples': 'sample_id'}) }}

with

samples as (
    select * from {{ ref('stg_site_speed__samples') }}
    where {{ affected('sample_id') }}
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
