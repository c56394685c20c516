{{ config(key='ticket_id', links={
    'stg_zendesk__tickets': 'ticket_id',
    'stg_zendesk__ticket_metrics': 'ticket_id',
    'calendar_days': ['created_day = day', 'solved_day = day'],
}) }}

-- Each helpdesk ticket's first reply and resolution, in calendar and business hours. Zendesk
-- gives the first reply only as whole minutes after creation (calendar, and business on its own
-- schedule): the reply is dated by the moment those minutes imply. Resolution has its moment
-- (solved_at), so its business hours come from the business calendar.
with

tickets as (
    select * from {{ ref('stg_zendesk__tickets') }}
    where {{ affected('ticket_id') }}
),

metrics as (
    select * from {{ ref('stg_zendesk__ticket_metrics') }}
    where {{ affected('ticket_id') }}
),

calendar as (
    select * from {{ ref('calendar_days') }}
),

replied as (
    select
        tickets.*,
        metrics.solved_at,
        metrics.solved_day,
        metrics.reply_time_calendar_minutes,
        metrics.reply_time_business_minutes,
        tickets.created_at + metrics.reply_time_calendar_minutes * interval '1 minute' as first_reply_at
    from tickets
    left join metrics on metrics.ticket_id = tickets.ticket_id
),

measured as (
    select
        replied.ticket_id,
        replied.created_at,
        replied.created_day,
        replied.priority,
        replied.ticket_channel,
        replied.order_id,
        replied.customer_id,
        {{ business_day('replied.first_reply_at') }} as first_reply_day,
        replied.reply_time_calendar_minutes / 60.0 as first_reply_hours,
        replied.reply_time_business_minutes / 60.0 as first_reply_business_hours,
        replied.solved_at,
        replied.solved_day,
        {{ seconds_between('replied.created_at', 'replied.solved_at') }} / 3600.0 as resolution_hours,
        {{ business_seconds_between('replied.created_at', 'replied.solved_at',
                                    'created_calendar', 'solved_calendar') }} / 3600.0
            as resolution_business_hours
    from replied
    left join calendar as created_calendar on created_calendar.day = replied.created_day
    left join calendar as solved_calendar on solved_calendar.day = replied.solved_day
)

select * from measured
