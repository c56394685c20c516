-- Distinct users are not additive: GA4 counts them per period.
{{ kpi_values(numerator=period_part(ref('fct_ga_users'), value='total_users', slices=['device'])) }}
