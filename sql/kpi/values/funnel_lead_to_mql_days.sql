{{ kpi_values(
    numerator=part(ref('fct_contacts'), 'mql_day', agg='median', value='lead_to_mql_days',
                   where='lead_day is not null'),
) }}
