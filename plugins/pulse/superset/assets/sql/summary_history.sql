-- The recent history of every summary KPI (slice `all`), up to the period kpi.kpi_summary reports:
-- the summary tiles draw it, so a tile never shows a period the summary has not closed yet. At day
-- grain office days only, as the summary judges them: a tile compares with the office day before.
with summary as (
    select
        kpi_id,
        grain,
        period_start as summary_period
    from kpi.kpi_summary
),

history as (
    select
        kpi_values.period_start,
        kpi_values.grain,
        kpi_values.kpi_id,
        kpi_values.numerator,
        kpi_values.denominator,
        kpi_values.value,
        row_number() over (
            partition by kpi_values.kpi_id, kpi_values.grain order by kpi_values.period_start desc
        ) as periods_back
    from kpi.kpi_values as kpi_values
    inner join summary
        on kpi_values.kpi_id = summary.kpi_id
        and kpi_values.grain = summary.grain
        and kpi_values.period_start <= summary.summary_period
    left join kpi.kpi_calendar as calendar
        on kpi_values.grain = 'day'
        and calendar.day = kpi_values.period_start
    where kpi_values.slice_name = 'all'
        and (kpi_values.grain <> 'day' or calendar.is_office_day)
),

final as (
    select
        period_start,
        grain,
        kpi_id,
        numerator,
        denominator,
        value,
        periods_back
    from history
    where periods_back <= 30
)

select * from final
