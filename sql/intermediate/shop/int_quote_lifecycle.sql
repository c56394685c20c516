{{ config(key='quote_id', indexes=['deal_id'], links={
    'stg_shop__quotes': 'quote_id',
    'int_customers': {'on': 'customer_id', 'reads': 'customer_name, segment, reseller'},
    'stg_shop__sales_agents': 'sales_agent_id',
    'calendar_days': ['requested_day = day', 'first_action_day = day'],
}) }}

-- Each quote from request to decision and order: office time to the first action (business hours),
-- calendar days to the decision and to the order, and the customer's and agent's names.
with

quotes as (
    select * from {{ ref('stg_shop__quotes') }}
    where {{ affected('quote_id') }}
),

customers as (
    select * from {{ ref('int_customers') }}
),

sales_agents as (
    select * from {{ ref('stg_shop__sales_agents') }}
),

calendar as (
    select * from {{ ref('calendar_days') }}
),

measured as (
    select
        quotes.*,
        {{ business_seconds_between('quotes.requested_at', 'quotes.first_action_at', 'requested_calendar',
                                    'first_action_calendar') }} as first_action_business_seconds,
        {{ seconds_between('quotes.requested_at', 'quotes.decided_at') }} as decision_seconds,
        {{ seconds_between('quotes.requested_at', 'quotes.ordered_at') }} as order_seconds
    from quotes
    left join calendar as requested_calendar on requested_calendar.day = quotes.requested_day
    left join calendar as first_action_calendar on first_action_calendar.day = quotes.first_action_day
),

joined as (
    select
        measured.quote_id,
        measured.customer_id,
        customers.customer_name,
        customers.segment,
        customers.reseller,
        measured.sales_agent_id,
        sales_agents.sales_agent_name as sales_agent,
        measured.deal_id,
        measured.requested_at,
        measured.requested_day,
        measured.first_action_at,
        measured.first_action_day,
        measured.issued_at,
        measured.issued_day,
        measured.decided_at,
        measured.decided_day,
        measured.outcome,
        measured.ordered_at,
        measured.ordered_day,
        measured.order_id,
        measured.list_amount,
        measured.quoted_amount,
        measured.discount_amount,
        measured.first_action_business_seconds / 3600.0 as first_action_business_hours,
        measured.decision_seconds / 86400.0 as decision_days,
        measured.order_seconds / 86400.0 as order_days
    from measured
    left join customers on customers.customer_id = measured.customer_id
    left join sales_agents on sales_agents.sales_agent_id = measured.sales_agent_id
)

select * from joined
