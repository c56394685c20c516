{{ kpi_values(
    numerator=part(ref('fct_ga_events'), 'report_day', agg='sum', value='events',
                   where="event_kind = 'key_event'",
                   columns={'event_name': 'item'}),
) }}
