{#- the reseller shown comes from dim_customers; a customer moved to another reseller changes its
    orders' reseller too, which rebuilds its periods -#}
{{ config(reads={'fct_orders': 'placed_day, is_cancelled, customer_id, revenue, reseller'}) }}

-- KPI 24: the 10 customers with the most revenue per period, ties by customer_id.
with

orders as (
    select * from {{ ref('fct_orders') }}
    where not is_cancelled and {{ within_refresh('placed_day') }}
),

customers as (
    select * from {{ ref('dim_customers') }}
),

periods as (
    select * from {{ scope('refresh_day_periods') }}
    where grain in ('{{ kpi('top_customers').grains | join("', '") }}')
),

revenue_per_period as (
    select
        periods.grain,
        periods.period_start,
        orders.customer_id,
        sum(orders.revenue) as revenue
    from orders
    inner join periods on periods.day = orders.placed_day
    group by periods.grain, periods.period_start, orders.customer_id
),

ranked as (
    select
        *,
        row_number() over (
            partition by grain, period_start order by revenue desc, customer_id
        ) as revenue_rank
    from revenue_per_period
),

final as (
    select
        ranked.period_start,
        ranked.grain,
        cast(ranked.revenue_rank as integer) as rank,
        ranked.customer_id,
        customers.customer_name,
        coalesce(customers.reseller, '{{ slice_null_label("reseller") }}') as reseller,
        cast(ranked.revenue as decimal(18, 2)) as revenue
    from ranked
    left join customers on customers.customer_id = ranked.customer_id
    where ranked.revenue_rank <= 10
)

select * from final
