-- A cohort: quotes requested in the period, and those of them ordered by now.
{{ kpi_values(
    numerator=part(ref('fct_quotes'), 'requested_day', where='is_ordered'),
    denominator=part(ref('fct_quotes'), 'requested_day'),
) }}
