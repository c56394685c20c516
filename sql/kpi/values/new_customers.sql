{{ kpi_values(numerator=part(ref('fct_customer_registrations'), 'registered_day')) }}
