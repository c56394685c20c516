{{ config(key='quote_id', links={
    'int_quote_lifecycle': 'quote_id',
    'stg_hubspot__deals': 'int_quote_lifecycle.deal_id = deal_id',
}) }}

-- Q6: every quote requested so far with its HubSpot deal stage as status ("(no deal)" when the
-- quote has no deal in HubSpot).
with

quotes as (
    select * from {{ ref('int_quote_lifecycle') }}
    where {{ affected('quote_id') }}
),

deals as (
    select * from {{ ref('stg_hubspot__deals') }}
),

final as (
    select
        quotes.quote_id,
        quotes.customer_name,
        coalesce(quotes.reseller, '{{ slice_null_label("reseller") }}') as reseller,
        quotes.sales_agent,
        quotes.requested_at,
        coalesce(deals.deal_stage, '(no deal)') as status,
        quotes.list_amount,
        quotes.quoted_amount,
        quotes.discount_amount,
        quotes.ordered_at
    from quotes
    left join deals on deals.deal_id = quotes.deal_id
)

select * from final
