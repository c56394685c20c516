{{ config(day_column='created_day', key='ticket_id', links={'int_ticket_durations': 'ticket_id'}) }}

with

tickets as (
    select * from {{ ref('int_ticket_durations') }}
    where {{ affected('ticket_id') }}
),

final as (
    select
        ticket_id,
        created_day,
        first_reply_day,
        solved_day,
        first_reply_hours,
        first_reply_business_hours,
        resolution_hours,
        resolution_business_hours,
        priority,
        ticket_channel
    from tickets
)

select * from final
