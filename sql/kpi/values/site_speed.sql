{{ kpi_values(
    numerator=part(ref('fct_page_loads'), 'measured_day', agg='sum', value='load_seconds'),
    denominator=part(ref('fct_page_loads'), 'measured_day'),
) }}
