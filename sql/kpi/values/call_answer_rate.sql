{{ kpi_values(
    numerator=part(ref('fct_inbound_calls'), 'started_day', where='in_office_hours and is_answered'),
    denominator=part(ref('fct_inbound_calls'), 'started_day', where='in_office_hours'),
) }}
