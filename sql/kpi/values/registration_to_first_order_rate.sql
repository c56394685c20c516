-- A cohort: customers registered in the period, and those of them that have ordered by now.
{{ kpi_values(
    numerator=part(ref('fct_customer_registrations'), 'registered_day', where='has_first_order'),
    denominator=part(ref('fct_customer_registrations'), 'registered_day'),
) }}
