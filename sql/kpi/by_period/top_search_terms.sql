{{ config(reads={'fct_ga_events': 'report_day, event_kind, item, events'}) }}

-- KPI 20: the 10 site-search terms with the most searches per period, ties by term.
with

events as (
    select * from {{ ref('fct_ga_events') }}
    where event_kind = 'site_search' and {{ within_refresh('report_day') }}
),

periods as (
    select * from {{ scope('refresh_day_periods') }}
    where grain in ('{{ kpi('top_search_terms').grains | join("', '") }}')
),

per_period as (
    select
        periods.grain,
        periods.period_start,
        events.item as search_term,
        sum(events.events) as searches
    from events
    inner join periods on periods.day = events.report_day
    group by periods.grain, periods.period_start, events.item
),

ranked as (
    select
        *,
        row_number() over (
            partition by grain, period_start order by searches desc, {{ codepoint_order("search_term") }}
        ) as item_rank
    from per_period
),

final as (
    select
        period_start,
        grain,
        cast(item_rank as integer) as rank,
        search_term,
        cast(searches as bigint) as searches
    from ranked
    where item_rank <= 10
)

select * from final
