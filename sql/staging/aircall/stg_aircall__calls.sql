{{ config(key='call_id') }}

with

source as (
    select * from {{ source('aircall', 'calls') }}
),

renamed as (
    select
        id as call_id,
        direction,
        status,
        started_at,
        {{ business_day('started_at') }} as started_day,
        answered_at,
        ended_at,
        duration as duration_seconds,
        missed_call_reason,
        number_id,
        user_id,
        archived as is_archived
    from source
)

select * from renamed
