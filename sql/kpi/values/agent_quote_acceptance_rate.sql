{{ kpi_values(
    numerator=part(ref('fct_quotes'), 'decided_day', where='is_accepted'),
    denominator=part(ref('fct_quotes'), 'decided_day'),
) }}
