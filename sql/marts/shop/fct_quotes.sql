{{ config(day_column='requested_day', key='quote_id', links={'int_quote_lifecycle': 'quote_id'}) }}

with

quotes as (
    select * from {{ ref('int_quote_lifecycle') }}
    where {{ affected('quote_id') }}
),

final as (
    select
        quote_id,
        customer_id,
        requested_day,
        first_action_day,
        issued_day,
        decided_day,
        ordered_day,
        issued_at is not null as is_issued,
        ordered_at is not null as is_ordered,
        coalesce(outcome = 'accepted', false) as is_accepted,
        discount_amount,
        first_action_business_hours,
        decision_days,
        order_days,
        segment,
        reseller,
        sales_agent
    from quotes
)

select * from final
