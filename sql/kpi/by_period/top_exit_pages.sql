{{ config(reads={'fct_ga_events': 'report_day, event_kind, item, events'}) }}

-- KPI 21: the 10 pages with the most exits (page_exit events) per period, ties by path.
with

events as (
    select * from {{ ref('fct_ga_events') }}
    where event_kind = 'page_exit' and {{ within_refresh('report_day') }}
),

periods as (
    select * from {{ scope('refresh_day_periods') }}
    where grain in ('{{ kpi('top_exit_pages').grains | join("', '") }}')
),

per_period as (
    select
        periods.grain,
        periods.period_start,
        events.item as page_path,
        sum(events.events) as exits
    from events
    inner join periods on periods.day = events.report_day
    group by periods.grain, periods.period_start, events.item
),

ranked as (
    select
        *,
        row_number() over (
            partition by grain, period_start order by exits desc, {{ codepoint_order("page_path") }}
        ) as item_rank
    from per_period
),

final as (
    select
        period_start,
        grain,
        cast(item_rank as integer) as rank,
        page_path,
        cast(exits as bigint) as exits
    from ranked
    where item_rank <= 10
)

select * from final
