{{ kpi_values(
    numerator=part(ref('fct_contacts'), 'lead_day'),
    denominator=part(ref('fct_contacts'), 'lead_day', slices=[]),
) }}
