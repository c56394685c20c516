{{ kpi_values(
    numerator=part(ref('fct_ga_campaign_sessions'), 'report_day', agg='sum', value='transactions',
                   where='is_paid'),
    denominator=part(ref('fct_ga_campaign_sessions'), 'report_day', agg='sum', value='sessions',
                     where='is_paid'),
) }}
