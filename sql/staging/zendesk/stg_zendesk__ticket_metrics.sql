{{ config(key='ticket_id') }}

with

source as (
    select * from {{ source('zendesk', 'ticket_metrics') }}
),

renamed as (
    select
        ticket_id,
        id as ticket_metric_id,
        replies,
        reopens,
        solved_at,
        {{ business_day('solved_at') }} as solved_day,
        reply_time_calendar_minutes,
        reply_time_business_minutes,
        full_resolution_time_calendar_minutes,
        full_resolution_time_business_minutes,
        updated_at
    from source
)

select * from renamed
