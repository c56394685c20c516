-- Revenue over spend (the article prints the fraction upside down but means this).
{{ kpi_values(
    numerator=part(ref('fct_ga_campaign_sessions'), 'report_day', agg='sum', value='purchase_revenue',
                   where='is_paid'),
    denominator=part(ref('fct_ad_spend'), 'spend_day', agg='sum', value='spend'),
) }}
