-- The numerator is 100 x (promoters - detractors), so summed numerators over summed answers is the score.
{{ kpi_values(
    numerator=part(ref('fct_nps_responses'), 'submitted_day', agg='sum', value='points'),
    denominator=part(ref('fct_nps_responses'), 'submitted_day'),
) }}
