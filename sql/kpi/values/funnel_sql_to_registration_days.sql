{{ kpi_values(
    numerator=part(ref('fct_contacts'), 'registered_day', agg='median', value='sql_to_registration_days',
                   where='sql_day is not null'),
) }}
