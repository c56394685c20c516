-- The business calendar for readers: the serving copy holds the kpi, meta and quarantine schemas
-- only. Dashboards draw day-grain histories over office days, as the summary judges them.
with calendar_days as (
    select * from {{ ref('calendar_days') }}
),

final as (
    select
        day,
        iso_weekday,
        is_office_day,
        holiday_name
    from calendar_days
)

select * from final
