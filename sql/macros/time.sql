{#-
    The one time-zone rule: timestamps are stored in UTC; a record's business day is the calendar
    day of its timestamp in the business time zone (PULSE_BUSINESS_TIMEZONE).
-#}

{#- The business-local wall-clock time of a UTC timestamp (timestamp without time zone). -#}
{% macro local_time(timestamp) -%}
({{ timestamp }} at time zone '{{ var("business_timezone") }}')
{%- endmacro %}

{#- The business day of a UTC timestamp. -#}
{% macro business_day(timestamp) -%}
cast({{ local_time(timestamp) }} as date)
{%- endmacro %}

{#- Calendar seconds from start to end. -#}
{% macro seconds_between(start, end) -%}
({{ epoch_seconds(end) }} - {{ epoch_seconds(start) }})
{%- endmacro %}
