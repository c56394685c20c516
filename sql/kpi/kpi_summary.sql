-- The daily summary: each summary KPI at day, ISO week and month, for the period it is judged on
-- (kpi_judged_periods: settled, and at day grain an office day), against the period it is compared
-- with and the registry's target, with a weather status:
--   storm  the target is missed, or (no target) the KPI got worse by more than the tolerance;
--   cloud  the target is met but the KPI got worse by more than the tolerance, or there is nothing
--          to judge (no value, no previous value for a KPI without target, a neutral KPI);
--   sun    otherwise: on target (or no target) and not worse by more than the tolerance.
-- "Worse" follows the registry's better direction; the tolerance is summary_tolerance (relative).
with

registry as (
    select * from {{ ref('kpi_registry') }}
    where summary
),

-- the long table under two names, each read by key (one shared name makes PostgreSQL read all of
-- it to share it)
current_values as (
    select * from {{ ref('kpi_values') }}
    where slice_name = 'all'
),

previous_values as (
    select * from {{ ref('kpi_values') }}
    where slice_name = 'all'
),

judged_periods as (
    select * from {{ ref('kpi_judged_periods') }}
    where grain in ('day', 'week', 'month')
),

stale_kpis as (
    select distinct kpi_sources.kpi_id
    from {{ ref('kpi_sources') }} as kpi_sources
    inner join meta.source_freshness as freshness on freshness.source = kpi_sources.source
    where freshness.stale
),

compared as (
    select
        registry.kpi_id,
        judged_periods.grain,
        judged_periods.period_start,
        current_values.value,
        previous_values.value as previous_value,
        coalesce(registry.target_max, registry.target_min) as target,
        registry.target_min,
        registry.target_max,
        registry.better,
        registry.title,
        registry.unit,
        registry.dashboard,
        stale_kpis.kpi_id is not null as stale,
        judged_periods.refreshed_through
    from registry
    inner join judged_periods on judged_periods.kpi_id = registry.kpi_id
    left join current_values
        on current_values.kpi_id = registry.kpi_id
        and current_values.grain = judged_periods.grain
        and current_values.period_start = judged_periods.period_start
    left join previous_values
        on previous_values.kpi_id = registry.kpi_id
        and previous_values.grain = judged_periods.grain
        and previous_values.period_start = judged_periods.previous_period_start
    left join stale_kpis on stale_kpis.kpi_id = registry.kpi_id
),

judged as (
    select
        *,
        (value - previous_value) / nullif(abs(previous_value), 0) as change,
        (value - target) / nullif(abs(target), 0) as vs_target,
        case
            when target_min is null and target_max is null then null
            when value is null then null
            else (target_min is null or value >= target_min) and (target_max is null or value <= target_max)
        end as on_target
    from compared
),

with_improvement as (
    select
        *,
        case better when 'higher' then change when 'lower' then -change end as improvement
    from judged
),

final as (
    select
        kpi_id,
        grain,
        period_start,
        value,
        previous_value,
        change,
        target,
        vs_target,
        better,
        case
            when value is null then 'cloud'
            when on_target = false then 'storm'
            when improvement is null then case when on_target then 'sun' else 'cloud' end
            when improvement < -{{ var('summary_tolerance') }}
                then case when on_target then 'cloud' else 'storm' end
            else 'sun'
        end as status,
        stale,
        title,
        unit,
        dashboard,
        refreshed_through
    from with_improvement
)

select * from final
