{#-
    kpi_values(numerator, denominator=none, by_slice={}): the rows of kpi.kpi_values of the KPI named
    like the model, for the periods of the current refresh, at each of the KPI's grains and slices.

    numerator and denominator are parts (`part(...)`, `period_part(...)`, see
    plugins/pulse/transform/parts.py); by_slice gives other parts for one slice (`measure(...)`),
    e.g. margin per category summed over order lines instead of orders.

    A KPI whose parts all count or sum records per day (kinds sum, count, ratio, share, average
    with a day grain, no period_filter) is additive: its week, month and quarter amounts are the
    sums of its day amounts, so a period is rebuilt from the facts of its rebuilt days and the
    stored day rows of its other days (a late change to one order in July re-reads that day, not
    the quarter). Other KPIs read every day of a rebuilt period from the facts.

    How values come out (kpis.yml conventions):
    - kind sum, count, distinct: numerator = value; denominator null.
    - kind ratio, share, average: value = numerator / denominator, null when the denominator is 0;
      a side that does not carry the slice contributes the period's total (a share's denominator).
    - kind median, min, max: value only; numerator and denominator null.
    - slice `all` has a row for every period of the window (zero-filled); other slices have a row
      where a record carries the value; a record without a value carries the slice's null label.
-#}
{% macro kpi_values(numerator, denominator=none, by_slice={}) -%}
{%- set k = kpi() -%}
{%- set is_ratio = k.kind in ('ratio', 'share', 'average') -%}
{%- set is_statistic = k.kind in ('median', 'min', 'max') -%}
{%- if is_ratio and denominator is none -%}{{ raise_error(k.id ~ ': a ' ~ k.kind ~ ' KPI needs a denominator') }}{%- endif -%}
{%- if not is_ratio and denominator is not none -%}{{ raise_error(k.id ~ ': a ' ~ k.kind ~ ' KPI has no denominator') }}{%- endif -%}
{%- for name in by_slice -%}
    {%- if name not in k.slices -%}{{ raise_error(k.id ~ ': by_slice names ' ~ name ~ ', not one of its slices') }}{%- endif -%}
{%- endfor -%}
{%- set grains = "'" ~ (k.grains | join("', '")) ~ "'" -%}
{%- set parts = [numerator] + ([denominator] if is_ratio else []) -%}
{%- for m in by_slice.values() %}{% do parts.extend([m['numerator']] + ([m['denominator']] if is_ratio else [])) %}{% endfor -%}
{%- set additive = k.kind in ('sum', 'count', 'ratio', 'share', 'average') and 'day' in k.grains
    and parts | rejectattr('per_period') | rejectattr('period_filter') | selectattr('agg', 'in', ['count', 'sum'])
        | list | length == parts | length -%}
with

periods as (
    select distinct grain, period_start
    from {{ scope('refresh_day_periods') }}
    where grain in ({{ grains }})
),
{%- if additive %}

{#- the days whose amounts come from the facts: the rebuilt days, and days before the KPI window
    (they have no stored day rows, and still count in a period overlapping the window) #}
fresh_days as (
    select distinct day
    from {{ scope('refresh_day_periods') }}
    where grain = 'day' or day < (select min(period_start) from {{ scope('window_periods') }} where grain = 'day')
),
{%- endif %}
{%- for slice_name in ['all'] + (k.slices | list) %}
{%- set m = by_slice.get(slice_name, {'numerator': numerator, 'denominator': denominator}) %}

{{ _kpi_side(slice_name ~ '__numerator', m['numerator'], slice_name, k, grains,
             _stored(additive, m['numerator'], numerator, 'numerator', slice_name, k)) }},
{%- if is_ratio %}

{{ _kpi_side(slice_name ~ '__denominator', m['denominator'], slice_name, k, grains,
             _stored(additive, m['denominator'], denominator, 'denominator', slice_name, k)) }},
{%- endif %}
{%- endfor %}

combined as (
    select
        periods.grain,
        periods.period_start,
        'all' as slice_name,
        'all' as slice_value,
        all__numerator.amount as numerator_amount,
        {% if is_ratio %}all__denominator.amount{% else %}cast(null as double precision){% endif %} as denominator_amount
    from periods
    left join all__numerator
        on all__numerator.grain = periods.grain and all__numerator.period_start = periods.period_start
    {%- if is_ratio %}
    left join all__denominator
        on all__denominator.grain = periods.grain and all__denominator.period_start = periods.period_start
    {%- endif %}
{%- for slice_name in k.slices %}
{%- set m = by_slice.get(slice_name, {'numerator': numerator, 'denominator': denominator}) %}
{%- set n_sliced = _carries(m['numerator'], slice_name, k) == 'yes' %}
{%- set d_sliced = is_ratio and _carries(m['denominator'], slice_name, k) == 'yes' %}
{%- set n = slice_name ~ '__numerator' %}
{%- set d = slice_name ~ '__denominator' %}
{%- if not (n_sliced or d_sliced) %}{{ raise_error(k.id ~ ': no part carries the slice ' ~ slice_name) }}{% endif %}

    union all

    {%- if not is_ratio %}
    select {{ n }}.grain, {{ n }}.period_start, '{{ slice_name }}', {{ n }}.slice_value, {{ n }}.amount,
        cast(null as double precision)
    from {{ n }}
    {%- elif n_sliced and d_sliced %}
    select
        coalesce({{ n }}.grain, {{ d }}.grain),
        coalesce({{ n }}.period_start, {{ d }}.period_start),
        '{{ slice_name }}',
        coalesce({{ n }}.slice_value, {{ d }}.slice_value),
        {{ n }}.amount,
        {{ d }}.amount
    from {{ n }}
    full outer join {{ d }}
        on {{ d }}.grain = {{ n }}.grain and {{ d }}.period_start = {{ n }}.period_start
        and {{ d }}.slice_value = {{ n }}.slice_value
    {%- elif n_sliced %}
    select {{ n }}.grain, {{ n }}.period_start, '{{ slice_name }}', {{ n }}.slice_value, {{ n }}.amount, {{ d }}.amount
    from {{ n }}
    left join {{ d }} on {{ d }}.grain = {{ n }}.grain and {{ d }}.period_start = {{ n }}.period_start
    {%- else %}
    select {{ d }}.grain, {{ d }}.period_start, '{{ slice_name }}', {{ d }}.slice_value, {{ n }}.amount, {{ d }}.amount
    from {{ d }}
    left join {{ n }} on {{ n }}.grain = {{ d }}.grain and {{ n }}.period_start = {{ d }}.period_start
    {%- endif %}
{%- endfor %}
),

final as (
    select
        period_start,
        grain,
        '{{ k.id }}' as kpi_id,
        slice_name,
        slice_value,
        {%- if is_ratio %}
        coalesce(numerator_amount, 0) as numerator,
        coalesce(denominator_amount, 0) as denominator,
        coalesce(numerator_amount, 0) / nullif(coalesce(denominator_amount, 0), 0) as value
        {%- elif is_statistic %}
        cast(null as double precision) as numerator,
        cast(null as double precision) as denominator,
        numerator_amount as value
        {%- else %}
        coalesce(numerator_amount, 0) as numerator,
        cast(null as double precision) as denominator,
        coalesce(numerator_amount, 0) as value
        {%- endif %}
    from combined
)

select * from final
{%- endmacro %}


{#- Does the part carry the slice? 'yes' or 'no' (macros return text). -#}
{% macro _carries(p, slice_name, k) -%}
{%- if slice_name == 'all' -%}no
{%- elif p['slices'] is none -%}{{ 'yes' if slice_name in k.slices else 'no' }}
{%- else -%}{{ 'yes' if slice_name in p['slices'] else 'no' }}
{%- endif -%}
{%- endmacro %}


{#- Where an additive side's day amounts are stored in kpi_values, as "column slice_name" (empty
    when the side is not additive or its day rows are not stored: a side that does not carry the
    slice is the day's total, stored on the `all` rows only if it is the KPI's own part). -#}
{% macro _stored(additive, p, own, role, slice_name, k) -%}
{%- if additive -%}
    {%- if _carries(p, slice_name, k) == 'yes' -%}{{ role }} {{ slice_name }}
    {%- elif p == own -%}{{ role }} all
    {%- endif -%}
{%- endif -%}
{%- endmacro %}


{#- One side of a KPI for one slice: amount per (grain, period_start, slice_value). A side that does
    not carry the slice gives the period's total with slice_value 'all'. `stored` (from _stored)
    rolls the side's periods up from its day amounts. -#}
{% macro _kpi_side(name, p, slice_name, k, grains, stored) -%}
{%- set sliced = _carries(p, slice_name, k) == 'yes' -%}
{%- set column = p['columns'].get(slice_name, slice_name) -%}
{%- set slice_value -%}
{%- if sliced -%}coalesce(cast(r.{{ column }} as text), '{{ slice_null_label(slice_name) }}'){%- else -%}'all'{%- endif -%}
{%- endset -%}
{%- if stored %}
{%- set stored_column, stored_slice = stored.split(' ') %}
{{ name }}__fresh as (
    select
        d.day,
        {{ slice_value }} as slice_value,
        {{ _aggregate(p['agg']) }} as amount
    from {{ _records(p, 'fresh_days') }} as r
    inner join fresh_days as d on d.day = r.{{ p['day'] }}
    group by d.day{% if sliced %}, {{ slice_value }}{% endif %}
),

{{ name }} as (
    select
        p.grain,
        p.period_start,
        d.slice_value,
        {#- summed in day order: a full and an incremental refresh add the same amounts alike #}
        sum(d.amount order by d.day) as amount
    from (
        select day, slice_value, amount from {{ name }}__fresh
        union all
        {#- the KPI's own day rows (not ref('kpi_values'): that would wait for every KPI) #}
        select period_start, slice_value, {{ stored_column }}
        from kpi.kpi_values
        where kpi_id = '{{ k.id }}' and grain = 'day' and slice_name = '{{ stored_slice }}'
            and period_start >= (select min(day) from {{ scope('refresh_day_periods') }})
            and period_start <= (select max(day) from {{ scope('refresh_day_periods') }})
            and period_start not in (select day from fresh_days)
    ) as d
    inner join {{ scope('refresh_day_periods') }} as p on p.day = d.day
    where p.grain in ({{ grains }})
    group by p.grain, p.period_start, d.slice_value
)
{%- else %}
{{ name }} as (
    {%- if p['per_period'] %}
    select
        r.grain,
        r.period_start,
        {% if sliced %}r.slice_value{% else %}'all'{% endif %} as slice_value,
        cast(sum(r.kpi_value) as double precision) as amount
    from (select *, ({{ p['value'] }}) as kpi_value from {{ p['relation'] }}) as r
    inner join periods as p on p.grain = r.grain and p.period_start = r.period_start
    where r.slice_name = '{{ slice_name if sliced else "all" }}'
    group by r.grain, r.period_start{% if sliced %}, r.slice_value{% endif %}
    {%- else %}
    select
        p.grain,
        p.period_start,
        {{ slice_value }} as slice_value,
        {{ _aggregate(p['agg']) }} as amount
    from {{ _records(p) }} as r
    inner join {{ scope('refresh_day_periods') }} as p on p.day = r.{{ p['day'] }}
    where p.grain in ({{ grains }})
    {%- if p['period_filter'] %}
        and ({{ p['period_filter'] }})
    {%- endif %}
    group by p.grain, p.period_start{% if sliced %}, {{ slice_value }}{% endif %}
    {%- endif %}
)
{%- endif %}
{%- endmacro %}


{#- A part's records on the days of the rebuilt periods (or of `days`, a relation of days), with
    its value as kpi_value. -#}
{% macro _records(p, days=none) -%}
(
        select *{% if p['value'] %}, ({{ p['value'] }}) as kpi_value{% endif %}
        from {{ p['relation'] }}
        where {{ within_refresh(p['day'], days) }}
        {%- if p['where'] %}
            and ({{ p['where'] }})
        {%- endif %}
    )
{%- endmacro %}


{#- `day_column` within the days of the rebuilt periods (or of `days`, a relation of days), as a
    range a fact's day index serves: joining the scope alone makes the database read every day. -#}
{% macro within_refresh(day_column, days=none) -%}
{%- set days = days or scope('refresh_day_periods') -%}
{{ day_column }} >= (select min(day) from {{ days }}) and {{ day_column }} <= (select max(day) from {{ days }})
{%- endmacro %}


{% macro _aggregate(agg) -%}
{%- if agg == 'count' -%}cast(count(*) as double precision)
{%- elif agg == 'sum' -%}cast(sum(r.kpi_value) as double precision)
{%- elif agg == 'distinct' -%}cast(count(distinct r.kpi_value) as double precision)
{%- elif agg == 'median' -%}{{ median('r.kpi_value') }}
{%- elif agg == 'min' -%}cast(min(r.kpi_value) as double precision)
{%- elif agg == 'max' -%}cast(max(r.kpi_value) as double precision)
{%- else -%}{{ raise_error('unknown aggregate ' ~ agg) }}
{%- endif -%}
{%- endmacro %}
