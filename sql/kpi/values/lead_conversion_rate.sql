-- Not a cohort: new customers and leads of the period, each by its own date.
{{ kpi_values(
    numerator=part(ref('fct_customer_registrations'), 'registered_day'),
    denominator=part(ref('fct_contacts'), 'lead_day'),
) }}
