{{ config(day_column='started_day', key='call_id', links={'int_inbound_calls': 'call_id'}) }}

with

calls as (
    select * from {{ ref('int_inbound_calls') }}
    where {{ affected('call_id') }}
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
