-- The article's formula: campaign visits (GA sessions), not the platform's clicks, over impressions.
{{ kpi_values(
    numerator=part(ref('fct_ga_campaign_sessions'), 'report_day', agg='sum', value='sessions',
                   where='is_paid'),
    denominator=part(ref('fct_ad_spend'), 'spend_day', agg='sum', value='impressions'),
) }}
