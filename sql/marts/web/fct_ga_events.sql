{{ config(day_column='report_day', key='report_day, event_kind, item', links={
    'stg_ga4__key_events': "report_day, event_kind = 'key_event', item = event_name",
    'stg_ga4__site_search': "report_day, event_kind = 'site_search', item = search_term",
    'stg_ga4__exit_pages': "report_day, event_kind = 'page_exit', item = page_path",
}) }}

-- GA4 events per day: key events by name, site searches by term, page exits by path.
with

key_events as (
    select * from {{ ref('stg_ga4__key_events') }}
    where {{ affected('report_day') }}
),

site_search as (
    select * from {{ ref('stg_ga4__site_search') }}
    where {{ affected('report_day') }}
),

exit_pages as (
    select * from {{ ref('stg_ga4__exit_pages') }}
    where {{ affected('report_day') }}
),

unioned as (
    select report_day, 'key_event' as event_kind, event_name as item, key_events as events
    from key_events
    union all
    select report_day, 'site_search', search_term, searches
    from site_search
    union all
    select report_day, 'page_exit', page_path, exits
    from exit_pages
)

select * from unioned
