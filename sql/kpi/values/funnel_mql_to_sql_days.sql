{{ kpi_values(
    numerator=part(ref('fct_contacts'), 'sql_day', agg='median', value='mql_to_sql_days',
                   where='mql_day is not null'),
) }}
