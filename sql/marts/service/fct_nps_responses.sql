{{ config(day_column='submitted_day', key='response_id', links={
    'stg_nps__responses': 'response_id',
    'int_customers': {'on': 'customer_id', 'reads': 'segment, reseller'},
}) }}

-- NPS answers: a promoter (9-10) counts +100 points, a detractor (0-6) -100, so that points summed
-- over answers and divided by the answers is the score.
with

responses as (
    select * from {{ ref('stg_nps__responses') }}
    where {{ affected('response_id') }}
),

customers as (
    select * from {{ ref('int_customers') }}
),

final as (
    select
        responses.response_id,
        responses.customer_id,
        responses.submitted_day,
        responses.score,
        case when responses.score >= 9 then 100 when responses.score <= 6 then -100 else 0 end as points,
        customers.segment,
        customers.reseller
    from responses
    left join customers on customers.customer_id = responses.customer_id
)

select * from final
