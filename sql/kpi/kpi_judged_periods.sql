-- The period each periodic KPI is judged on, per grain, and the period it is compared with: what
-- the daily summary shows and what the alerts read. A period is judged once it has settled: it
-- ended at least the KPI's settles_after_days (kpis.yml) before the refresh's last business day
-- (GA4 is still processing yesterday's sessions at the morning refresh; yesterday's carts are not
-- all decided). At day grain only office days are judged, each against the office day before: a
-- wholesaler's weekend says little, and on a Monday morning Friday is the day worth reading.
with

registry as (
    select * from {{ ref('kpi_registry') }}
    where kind <> 'list'
),

calendar_days as (
    select * from {{ ref('calendar_days') }}
),

window_periods as (
    select * from {{ scope('window_periods') }}
),

judgeable_periods as (
    select window_periods.*
    from window_periods
    left join calendar_days
        on window_periods.grain = 'day'
        and calendar_days.day = window_periods.period_start
    where window_periods.grain <> 'day' or calendar_days.is_office_day
),

judged as (
    select registry.kpi_id, judgeable_periods.grain, max(judgeable_periods.period_start) as period_start
    from registry
    inner join judgeable_periods
        on position(judgeable_periods.grain in registry.grains) > 0
        and judgeable_periods.last_day <= cast('{{ var("through") }}' as date) - registry.settles_after_days
    group by registry.kpi_id, judgeable_periods.grain
),

compared_with as (
    select judged.kpi_id, judged.grain, max(judgeable_periods.period_start) as period_start
    from judged
    inner join judgeable_periods
        on judgeable_periods.grain = judged.grain
        and judgeable_periods.period_start < judged.period_start
    group by judged.kpi_id, judged.grain
),

final as (
    select
        judged.kpi_id,
        judged.grain,
        judged.period_start,
        compared_with.period_start as previous_period_start,
        cast('{{ var("through") }}' as date) as refreshed_through
    from judged
    left join compared_with
        on compared_with.kpi_id = judged.kpi_id
        and compared_with.grain = judged.grain
)

select * from final
