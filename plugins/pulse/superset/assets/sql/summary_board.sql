-- The summary board: one row per summary KPI and grain from kpi.kpi_summary, with its weather
-- symbol, a link to its detail dashboard, its value as text in its unit and a sparkline of its
-- last 14 periods (at day grain office days, as the summary judges them). Text is built here because a table column has one number format for all rows.
-- `grain` is the board's grain (day, week, month); a KPI without it (NPS is monthly) shows its
-- next coarser grain there, named in `kpi_grain`.
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
    left join kpi.kpi_calendar as calendar
        on kpi_values.grain = 'day'
        and calendar.day = kpi_values.period_start
    where kpi_values.slice_name = 'all'
        and (kpi_values.grain <> 'day' or calendar.is_office_day)
),

board_grains as (
    select 'day' as grain, 1 as grain_rank
    union all
    select 'week' as grain, 2 as grain_rank
    union all
    select 'month' as grain, 3 as grain_rank
),

ranked_summary as (
    select
        summary.*,
        case summary.grain when 'day' then 1 when 'week' then 2 when 'month' then 3 else 4 end as grain_rank
    from summary
),

board_rows as (
    select
        board_grains.grain as board_grain,
        ranked_summary.*,
        row_number() over (
            partition by board_grains.grain, ranked_summary.kpi_id order by ranked_summary.grain_rank
        ) as pick
    from board_grains
    inner join ranked_summary
        on ranked_summary.grain_rank >= board_grains.grain_rank
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
    where periods_back <= 14
),

levels as (
    select
        kpi_id,
        grain,
        period_start,
        case
            when value is null then 1
            when high = low then 4
            else 1 + cast(floor(7 * (value - low) / (high - low)) as integer)
        end as level
    from recent
),

sparklines as (
    select
        kpi_id,
        grain,
        string_agg(substr('▁▂▃▄▅▆▇█', level, 1), '' order by period_start) as trend
    from levels
    group by kpi_id, grain
),

final as (
    select
        board_rows.board_grain as grain,
        board_rows.grain as kpi_grain,
        board_rows.kpi_id,
        board_rows.period_start,
        board_rows.value,
        board_rows.previous_value,
        board_rows.change,
        board_rows.target,
        board_rows.vs_target,
        board_rows.better,
        board_rows.status,
        board_rows.stale,
        board_rows.title,
        board_rows.unit,
        board_rows.dashboard,
        case board_rows.status when 'sun' then '☀' when 'cloud' then '☁' when 'storm' then '⚡' else '·' end
            as weather,
        case board_rows.status when 'storm' then 1 when 'cloud' then 2 else 3 end as status_rank,
        '<a href="/superset/dashboard/' || board_rows.dashboard || '/">' || board_rows.title || '</a>' as kpi,
        case board_rows.unit
            when 'ratio' then cast(cast(board_rows.value * 100 as decimal(18, 1)) as varchar) || ' %'
            when 'eur' then '€ ' || cast(cast(board_rows.value as decimal(18, 2)) as varchar)
            when 'count' then cast(cast(board_rows.value as decimal(18, 0)) as varchar)
            when 'seconds' then cast(cast(board_rows.value as decimal(18, 1)) as varchar) || ' s'
            when 'hours' then cast(cast(board_rows.value as decimal(18, 1)) as varchar) || ' h'
            when 'days' then cast(cast(board_rows.value as decimal(18, 1)) as varchar) || ' d'
            when 'score' then cast(cast(board_rows.value as decimal(18, 1)) as varchar)
            else cast(cast(board_rows.value as decimal(18, 2)) as varchar)
        end as value_label,
        sparklines.trend
    from board_rows
    left join sparklines
        on board_rows.kpi_id = sparklines.kpi_id
        and board_rows.grain = sparklines.grain
    where board_rows.pick = 1
)

select * from final
