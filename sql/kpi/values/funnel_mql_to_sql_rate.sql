-- A cohort: contacts that entered the step in the period, and those of them that reached the next.
{{ kpi_values(
    numerator=part(ref('fct_contacts'), 'mql_day', where='has_sql'),
    denominator=part(ref('fct_contacts'), 'mql_day'),
) }}
