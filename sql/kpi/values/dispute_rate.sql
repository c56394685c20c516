-- Per dispute kind only the numerator is cut; per segment and reseller both sides are.
{{ kpi_values(
    numerator=part(ref('fct_disputes'), 'created_day'),
    denominator=part(ref('fct_orders'), 'placed_day',
                     where='not is_cancelled', slices=['segment', 'reseller']),
) }}
