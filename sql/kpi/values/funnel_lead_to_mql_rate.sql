-- A cohort: contacts that entered the step in the period, and those of them that reached the next.
{{ kpi_values(
    numerator=part(ref('fct_contacts'), 'lead_day', where='has_mql'),
    denominator=part(ref('fct_contacts'), 'lead_day'),
) }}
