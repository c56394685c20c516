-- Carts still open are left out of both sides until their outcome is known.
{{ kpi_values(
    numerator=part(ref('fct_carts'), 'created_day', where="status = 'abandoned'"),
    denominator=part(ref('fct_carts'), 'created_day', where="status in ('abandoned', 'ordered')"),
) }}
