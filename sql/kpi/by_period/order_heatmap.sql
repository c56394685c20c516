{{ config(reads={'fct_orders': 'placed_day, is_cancelled, iso_weekday, hour_of_day'}) }}

-- KPI 36: orders per business-local ISO weekday (1 = Monday) and hour of placed_at; cells with
-- at least one order.
with

orders as (
    select * from {{ ref('fct_orders') }}
    where not is_cancelled and {{ within_refresh('placed_day') }}
),

periods as (
    select * from {{ scope('refresh_day_periods') }}
    where grain in ('{{ kpi('order_heatmap').grains | join("', '") }}')
),

cells as (
    select
        periods.period_start,
        periods.grain,
        orders.iso_weekday,
        orders.hour_of_day as hour,
        count(*) as orders
    from orders
    inner join periods on periods.day = orders.placed_day
    group by periods.period_start, periods.grain, orders.iso_weekday, orders.hour_of_day
),

final as (
    select
        period_start,
        grain,
        cast(iso_weekday as integer) as iso_weekday,
        cast(hour as integer) as hour,
        cast(orders as bigint) as orders
    from cells
)

select * from final
