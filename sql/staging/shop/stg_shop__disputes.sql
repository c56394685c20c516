{{ config(key='dispute_id') }}

with

source as (
    select * from {{ source('shop', 'disputes') }}
),

renamed as (
    select
        id as dispute_id,
        order_id,
        kind as dispute_kind,
        reason,
        carrier_related,
        created_at,
        {{ business_day('created_at') }} as created_day,
        zendesk_ticket_id,
        updated_at
    from source
)

select * from renamed
