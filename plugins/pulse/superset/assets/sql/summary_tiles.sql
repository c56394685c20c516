-- One row per summary KPI, grain and recent period: the latest complete period's figures from
-- kpi.kpi_summary repeated on each of the last 30 periods of its history (the sparkline).
-- Display numbers are rounded here because the tile template cannot round.
with summary as (
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
        status,
        stale,
        title,
        unit,
        dashboard
    from kpi.kpi_summary
),

history as (
    select
        kpi_values.kpi_id,
        kpi_values.grain,
        kpi_values.period_start,
        kpi_values.value,
        row_number() over (
            partition by kpi_values.kpi_id, kpi_values.grain order by kpi_values.period_start desc
        ) as periods_back
    from kpi.kpi_values as kpi_values
    inner join summary
        on kpi_values.kpi_id = summary.kpi_id
        and kpi_values.grain = summary.grain
        and kpi_values.period_start <= summary.period_start
    where kpi_values.slice_name = 'all'
),

recent as (
    select
        kpi_id,
        grain,
        period_start,
        value,
        min(value) over (partition by kpi_id, grain) as low,
        max(value) over (partition by kpi_id, grain) as high
    from history
    where periods_back <= 30
),

final as (
    select
        summary.kpi_id,
        summary.grain,
        summary.period_start,
        summary.value,
        summary.previous_value,
        summary.change,
        summary.target,
        summary.vs_target,
        summary.better,
        summary.status,
        summary.stale,
        summary.title,
        summary.unit,
        summary.dashboard,
        case summary.unit
            when 'ratio' then round(cast(summary.value * 100 as numeric), 1)
            when 'eur' then round(cast(summary.value as numeric), 0)
            when 'count' then round(cast(summary.value as numeric), 0)
            else round(cast(summary.value as numeric), 1)
        end as display_value,
        round(cast(summary.change * 100 as numeric), 1) as change_pct,
        round(cast(summary.vs_target * 100 as numeric), 1) as vs_target_pct,
        summary.change is not null as has_change,
        summary.vs_target is not null as has_target,
        case summary.status when 'sun' then '☀️' when 'cloud' then '☁️' when 'storm' then '⛈️' else '·' end
            as status_icon,
        case
            when summary.change is null or summary.change = 0 or summary.better = 'neutral' then 'flat'
            when (summary.change > 0) = (summary.better = 'higher') then 'good'
            else 'bad'
        end as change_class,
        case when summary.change > 0 then '▲' when summary.change < 0 then '▼' else '=' end as change_arrow,
        recent.period_start as spark_period,
        recent.value as spark_value,
        case
            when recent.value is null then 0
            when recent.high = recent.low then 4
            else 1 + cast(floor(7 * (recent.value - recent.low) / (recent.high - recent.low)) as integer)
        end as spark_level
    from summary
    left join recent
        on summary.kpi_id = recent.kpi_id
        and summary.grain = recent.grain
)

select * from final
