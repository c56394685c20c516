-- A flow, not a cohort: issued quotes ordered in the period over quotes issued in the period.
{{ kpi_values(
    numerator=part(ref('fct_quotes'), 'ordered_day', where='is_issued'),
    denominator=part(ref('fct_quotes'), 'issued_day'),
) }}
