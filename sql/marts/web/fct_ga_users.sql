{{ config(day_column='period_start', key='grain, period_start, device_category', links={
    'stg_ga4__users': 'grain, period_start, device_category',
}) }}

-- GA4 distinct users per period (grain, period_start), already cut the way the KPIs slice them:
-- the total over devices (slice all) and per device.
with

users as (
    select * from {{ ref('stg_ga4__users') }}
    where {{ affected('period_start') }}
),

final as (
    select
        grain,
        period_start,
        device_category,
        case when device_category = 'all' then 'all' else 'device' end as slice_name,
        case when device_category = 'all' then 'all' else device_category end as slice_value,
        total_users,
        new_users
    from users
)

select * from final
