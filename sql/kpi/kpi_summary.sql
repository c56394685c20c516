-- The daily summary: each summary KPI at day, ISO week and month, for its latest settled period
-- (the last one ending at least the KPI's settles_after_days before the refresh's last business
-- day: GA4 is still processing yesterday's sessions, yesterday's carts are not decided yet), against
-- the period before and the registry's target, with a weather status:
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

kpi_values as (
    select * from {{ ref('kpi_values') }}
    where slice_name = 'all'
),

window_periods as (
    select * from {{ scope('window_periods') }}
    where grain in ('day', 'week', 'month')
),

latest_periods as (
    select registry.kpi_id, window_periods.grain, max(window_periods.period_start) as period_start
    from registry
    inner join window_periods
        on position(window_periods.grain in registry.grains) > 0
        and window_periods.last_day <= cast('{{ var("through") }}' as date) - registry.settles_after_days
    group by registry.kpi_id, window_periods.grain
),

previous_periods as (
    select latest_periods.kpi_id, window_periods.grain, max(window_periods.period_start) as period_start
    from window_periods
    inner join latest_periods
        on latest_periods.grain = window_periods.grain
        and window_periods.period_start < latest_periods.period_start
    group by latest_periods.kpi_id, window_periods.grain
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
        latest_periods.grain,
        latest_periods.period_start,
        current_values.value,
        previous_values.value as previous_value,
        coalesce(registry.target_max, registry.target_min) as target,
        registry.target_min,
        registry.target_max,
        registry.better,
        registry.title,
        registry.unit,
        registry.dashboard,
        stale_kpis.kpi_id is not null as stale
    from registry
    inner join latest_periods on latest_periods.kpi_id = registry.kpi_id
    left join previous_periods
        on previous_periods.kpi_id = registry.kpi_id
        and previous_periods.grain = latest_periods.grain
    left join kpi_values as current_values
        on current_values.kpi_id = registry.kpi_id
        and current_values.grain = latest_periods.grain
        and current_values.period_start = latest_periods.period_start
    left join kpi_values as previous_values
        on previous_values.kpi_id = registry.kpi_id
        and previous_values.grain = previous_periods.grain
        and previous_values.period_start = previous_periods.period_start
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
        dashboard
    from with_improvement
)

select * from final
