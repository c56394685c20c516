{#-
    Office time, from the business calendar (staging.calendar_days: each day's office window in UTC
    and the office seconds of all earlier days). Office seconds until a moment = office seconds
    before its business day + the part of that day's window already past; office time between two
    moments is the difference, so holidays, weekends and daylight saving come from the calendar.
    `calendar` is the alias of calendar_days joined on the moment's business day.
-#}

{% macro office_seconds_until(timestamp, calendar) -%}
{%- set into_window = epoch_seconds(timestamp) ~ ' - ' ~ epoch_seconds(calendar ~ '.opens_at') -%}
({{ calendar }}.office_seconds_before
    + coalesce(least(greatest({{ into_window }}, 0), {{ calendar }}.office_seconds), 0))
{%- endmacro %}

{#- Office seconds from start to end (0 when end is not after start; null when either is null). -#}
{% macro business_seconds_between(start, end, start_calendar, end_calendar) -%}
case
    when {{ start }} is null or {{ end }} is null then null
    else greatest(
        {{ office_seconds_until(end, end_calendar) }} - {{ office_seconds_until(start, start_calendar) }}, 0
    )
end
{%- endmacro %}

{#- True when the moment falls inside the office window of an office day. -#}
{% macro in_office_hours(timestamp, calendar) -%}
coalesce({{ timestamp }} >= {{ calendar }}.opens_at and {{ timestamp }} < {{ calendar }}.closes_at, false)
{%- endmacro %}
