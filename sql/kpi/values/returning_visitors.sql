-- GA4 totalUsers - newUsers of the period.
{{ kpi_values(numerator=period_part(ref('fct_ga_users'),
                                    value='total_users - new_users', slices=['device'])) }}
