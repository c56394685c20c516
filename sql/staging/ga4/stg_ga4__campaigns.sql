{{ config(key='report_day, campaign, source_medium') }}

-- Day-level GA4 reports are dated by the property's day: the property must report in the business
-- time zone (docs/sql.md) for these days to be business days.
with

source as (
    select * from {{ source('ga4', 'campaigns') }}
),

renamed as (
    select
        date as report_day,
        campaign_name as campaign,
        source_medium,
        sessions,
        engaged_sessions,
        transactions,
        purchase_revenue,
        property_time_zone
    from source
)

select * from renamed
