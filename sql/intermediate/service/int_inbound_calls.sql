{{ config(key='call_id', links={
    'stg_aircall__calls': 'call_id',
    'calendar_days': 'started_day = day',
}) }}

-- Inbound calls: answered or not, the wait until an agent answered, and whether the call came in
-- during opening hours (inside the office window of an office day).
with

calls as (
    select * from {{ ref('stg_aircall__calls') }}
    where direction = 'inbound' and {{ affected('call_id') }}
),

calendar as (
    select * from {{ ref('calendar_days') }}
),

measured as (
    select
        calls.call_id,
        calls.started_at,
        calls.started_day,
        calls.answered_at is not null as is_answered,
        {{ seconds_between('calls.started_at', 'calls.answered_at') }} as wait_seconds,
        {{ in_office_hours('calls.started_at', 'calendar') }} as in_office_hours
    from calls
    left join calendar on calendar.day = calls.started_day
)

select * from measured
