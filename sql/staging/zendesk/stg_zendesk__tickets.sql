{{ config(key='ticket_id') }}

with

source as (
    select * from {{ source('zendesk', 'tickets') }}
),

renamed as (
    select
        id as ticket_id,
        created_at,
        {{ business_day('created_at') }} as created_day,
        status,
        type as ticket_type,
        priority,
        via_channel as ticket_channel,
        order_id,
        customer_id,
        updated_at
    from source
)

select * from renamed
