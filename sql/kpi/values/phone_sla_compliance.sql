-- Missed calls count as breaches.
{{ kpi_values(
    numerator=part(ref('fct_inbound_calls'), 'started_day',
                   where='in_office_hours and is_answered and wait_seconds <= ' ~ var('phone_sla_seconds')),
    denominator=part(ref('fct_inbound_calls'), 'started_day', where='in_office_hours'),
) }}
