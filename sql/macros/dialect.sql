{#-
    Where DuckDB and PostgreSQL differ, and only here: every macro below branches on `dialect`
    ('duckdb' or 'postgres'); models call the macro and never test the dialect themselves.
    Everything else in sql/ is written in the SQL both engines share.
-#}

{#- Median (percentile_cont 0.5: the mean of the two middle values for an even count). DuckDB's
    median() is that and runs in one pass; PostgreSQL only has the ordered-set aggregate, and only
    over double precision. -#}
{% macro median(expression) -%}
{%- if dialect == 'duckdb' -%}
cast(median(cast({{ expression }} as double precision)) as double precision)
{%- else -%}
percentile_cont(0.5) within group (order by cast({{ expression }} as double precision))
{%- endif -%}
{%- endmacro %}

{#- Seconds since the Unix epoch as a double: PostgreSQL's extract(epoch) is numeric, DuckDB's
    epoch_us() is an exact integer of microseconds. -#}
{% macro epoch_seconds(timestamp) -%}
{%- if dialect == 'duckdb' -%}
(epoch_us({{ timestamp }}) / 1000000.0)
{%- else -%}
cast(extract(epoch from {{ timestamp }}) as double precision)
{%- endif -%}
{%- endmacro %}

{#- Text in code-point order (what Python sorts by): PostgreSQL sorts text by the database's
    collation (en_US puts 'b' before 'B_' differently), DuckDB by code point already. -#}
{% macro codepoint_order(expression) -%}
{%- if dialect == 'postgres' -%}
{{ expression }} collate "C"
{%- else -%}
{{ expression }}
{%- endif -%}
{%- endmacro %}
