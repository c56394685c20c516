-- Tickets still unsolved are judged when solved.
{{ kpi_values(
    numerator=part(ref('fct_tickets'), 'solved_day', where='resolution_hours <= ' ~ var('ticket_sla_hours')),
    denominator=part(ref('fct_tickets'), 'solved_day'),
) }}
