{#-
    The acquisition channel of a shop order (KPI 25) from the `acquisition_channels` rules of
    kpis.yml: the first rule whose conditions all hold wins. utm values are compared trimmed and
    lower-cased; an empty string counts as missing.
-#}
{% macro acquisition_channel(order_channel, utm_source, utm_medium) -%}
{%- set source = "nullif(lower(trim(" ~ utm_source ~ ")), '')" -%}
{%- set medium = "nullif(lower(trim(" ~ utm_medium ~ ")), '')" -%}
{%- set channel = "nullif(lower(trim(" ~ order_channel ~ ")), '')" -%}
case
{%- for rule in registry.acquisition_channels %}
    {%- if rule.otherwise %}
    else '{{ rule.channel }}'
    {%- else %}
    {%- set conditions = [] %}
    {%- if rule.order_channel %}{% do conditions.append(channel ~ " in ('" ~ (rule.order_channel | join("', '")) ~ "')") %}{% endif %}
    {%- if rule.utm_missing %}{% do conditions.append(source ~ " is null and " ~ medium ~ " is null") %}{% endif %}
    {%- if rule.source %}{% do conditions.append(source ~ " in ('" ~ (rule.source | join("', '")) ~ "')") %}{% endif %}
    {%- if rule.medium %}{% do conditions.append(medium ~ " in ('" ~ (rule.medium | join("', '")) ~ "')") %}{% endif %}
    when {{ conditions | join(' and ') }} then '{{ rule.channel }}'
    {%- endif %}
{%- endfor %}
end
{%- endmacro %}
