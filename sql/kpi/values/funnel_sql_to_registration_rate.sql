-- A cohort: contacts that entered the step in the period, and those of them that reached the next.
{{ kpi_values(
    numerator=part(ref('fct_contacts'), 'sql_day', where='has_registered'),
    denominator=part(ref('fct_contacts'), 'sql_day'),
) }}
