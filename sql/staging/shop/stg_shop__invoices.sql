{{ config(key='invoice_id', indexes=['customer_id']) }}

with

source as (
    select * from {{ source('shop', 'invoices') }}
),

renamed as (
    select
        id as invoice_id,
        order_id,
        customer_id,
        amount,
        issued_at,
        due_date,
        paid_at,
        updated_at
    from source
)

select * from renamed
