{{ config(key='quote_id') }}

with

source as (
    select * from {{ source('shop', 'quotes') }}
),

renamed as (
    select
        id as quote_id,
        customer_id,
        buyer_id,
        sales_agent_id,
        requested_at,
        {{ business_day('requested_at') }} as requested_day,
        first_action_at,
        {{ business_day('first_action_at') }} as first_action_day,
        issued_at,
        {{ business_day('issued_at') }} as issued_day,
        decided_at,
        {{ business_day('decided_at') }} as decided_day,
        outcome,
        ordered_at,
        {{ business_day('ordered_at') }} as ordered_day,
        order_id,
        list_amount,
        quoted_amount,
        discount_amount,
        deal_id,
        updated_at
    from source
)

select * from renamed
