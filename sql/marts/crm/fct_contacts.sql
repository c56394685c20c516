{{ config(day_column='created_day', key='contact_id', links={
    'int_contact_funnel': 'contact_id',
    'dim_paid_campaigns': 'campaign',
}) }}

with

funnel as (
    select * from {{ ref('int_contact_funnel') }}
    where {{ affected('contact_id') }}
),

paid_campaigns as (
    select * from {{ ref('dim_paid_campaigns') }}
),

final as (
    select
        funnel.contact_id,
        funnel.created_day,
        funnel.lead_day,
        funnel.mql_day,
        funnel.sql_day,
        funnel.qualified_day,
        funnel.registered_day,
        funnel.has_mql,
        funnel.has_sql,
        funnel.has_registered,
        funnel.lead_to_mql_days,
        funnel.mql_to_sql_days,
        funnel.sql_to_registration_days,
        funnel.lead_source,
        funnel.campaign,
        paid_campaigns.platform,
        paid_campaigns.campaign is not null as is_paid_campaign
    from funnel
    left join paid_campaigns on paid_campaigns.campaign = funnel.campaign
)

select * from final
