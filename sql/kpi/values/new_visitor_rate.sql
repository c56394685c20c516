{{ kpi_values(
    numerator=period_part(ref('fct_ga_users'), value='new_users', slices=['device']),
    denominator=period_part(ref('fct_ga_users'), value='total_users', slices=['device']),
) }}
