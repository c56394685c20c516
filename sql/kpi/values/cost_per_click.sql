-- Budget over the visits attributed to the campaign, not over the platform's clicks.
{{ kpi_values(
    numerator=part(ref('fct_ad_spend'), 'spend_day', agg='sum', value='spend'),
    denominator=part(ref('fct_ga_campaign_sessions'), 'report_day', agg='sum', value='sessions',
                     where='is_paid'),
) }}
