{{ config(key='contact_id', links={
    'stg_hubspot__contacts': 'contact_id',
    'int_customers': {'on': 'customer_id', 'reads': 'registered_at, registered_day'},
}) }}

-- Each HubSpot contact down the funnel lead -> MQL -> SQL -> shop registration: the day of each
-- step, the calendar days between steps, and its qualification as a prospect (the earlier of MQL
-- and SQL, for contacts matching a buyer persona).
with

contacts as (
    select * from {{ ref('stg_hubspot__contacts') }}
    where {{ affected('contact_id') }}
),

customers as (
    select * from {{ ref('int_customers') }}
),

joined as (
    select
        contacts.contact_id,
        contacts.customer_id,
        contacts.created_day,
        contacts.lead_day,
        contacts.mql_day,
        contacts.sql_day,
        case
            when contacts.persona is not null
                then {{ business_day('least(contacts.mql_at, contacts.sql_at)') }}
        end as qualified_day,
        customers.registered_day,
        contacts.mql_at is not null as has_mql,
        contacts.sql_at is not null as has_sql,
        customers.registered_at is not null as has_registered,
        {{ seconds_between('contacts.lead_at', 'contacts.mql_at') }} / 86400.0 as lead_to_mql_days,
        {{ seconds_between('contacts.mql_at', 'contacts.sql_at') }} / 86400.0 as mql_to_sql_days,
        {{ seconds_between('contacts.sql_at', 'customers.registered_at') }} / 86400.0
            as sql_to_registration_days,
        contacts.lead_source,
        contacts.campaign
    from contacts
    left join customers on customers.customer_id = contacts.customer_id
)

select * from joined
