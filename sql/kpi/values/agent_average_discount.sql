{{ kpi_values(
    numerator=part(ref('fct_quotes'), 'issued_day', agg='sum', value='discount_amount'),
    denominator=part(ref('fct_quotes'), 'issued_day'),
) }}
