{{ config(key='customer_id', links={
    'stg_shop__buyers': {'on': 'customer_id', 'reads': 'registered_at'},
    'stg_shop__invoices': {'on': 'customer_id', 'reads': 'amount, paid_at'},
}) }}

-- Each customer's registered buyer accounts and the credit it uses (invoices issued and not yet
-- paid), for the customers that have either.
with

buyers as (
    select * from {{ ref('stg_shop__buyers') }}
    where registered_at is not null and {{ affected('customer_id') }}
),

invoices as (
    select * from {{ ref('stg_shop__invoices') }}
    where paid_at is null and {{ affected('customer_id') }}
),

buyer_accounts as (
    select customer_id, count(*) as buyer_accounts
    from buyers
    group by customer_id
),

credit_used as (
    select customer_id, sum(amount) as credit_used
    from invoices
    group by customer_id
),

final as (
    select
        coalesce(buyer_accounts.customer_id, credit_used.customer_id) as customer_id,
        cast(coalesce(buyer_accounts.buyer_accounts, 0) as bigint) as buyer_accounts,
        cast(coalesce(credit_used.credit_used, 0) as decimal(18, 2)) as credit_used
    from buyer_accounts
    full outer join credit_used on credit_used.customer_id = buyer_accounts.customer_id
)

select * from final
