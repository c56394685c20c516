{{ kpi_values(
    numerator=part(ref('fct_quotes'), 'decided_day', agg='sum', value='decision_days'),
    denominator=part(ref('fct_quotes'), 'decided_day'),
) }}
