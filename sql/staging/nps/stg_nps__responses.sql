{{ config(key='response_id') }}

with

source as (
    select * from {{ source('nps', 'responses') }}
),

renamed as (
    select
        response_id,
        submitted_at,
        {{ business_day('submitted_at') }} as submitted_day,
        customer_id,
        score,
        comment,
        source_file
    from source
)

select * from renamed
