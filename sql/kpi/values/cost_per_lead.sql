-- Leads from unpaid sources are not in the denominator.
{{ kpi_values(
    numerator=part(ref('fct_ad_spend'), 'spend_day', agg='sum', value='spend'),
    denominator=part(ref('fct_contacts'), 'lead_day', where='is_paid_campaign'),
) }}
