{{ config(day_column='started_day') }}

with

calls as (
    select * from {{ ref('int_inbound_calls') }}
),

final as (
    select
        call_id,
        started_day,
        is_answered,
        wait_seconds,
        in_office_hours
    from calls
)

select * from final
