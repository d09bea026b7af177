{#-
  Helpers for marts reported per period (month, quarter) and per group (rep, team, territory,
  company). A detail row is crossed with the period grains and group types, then aggregated.
-#}

{% macro kpi_grains() -%}
    select 'month' as period_grain union all select 'quarter' as period_grain
{%- endmacro %}

{% macro kpi_group_types() -%}
    select 'rep' as group_type
    union all select 'team' as group_type
    union all select 'territory' as group_type
    union all select 'company' as group_type
{%- endmacro %}

{#- First day of the month or quarter holding date_column. -#}
{% macro period_start(grain_column, date_column) -%}
    case {{ grain_column }}
        when 'month' then cast({{ dbt.date_trunc('month', date_column) }} as date)
        else cast({{ dbt.date_trunc('quarter', date_column) }} as date)
    end
{%- endmacro %}

{#- The group a row belongs to; rows with no rep version go to 'unassigned' so that totals tie. -#}
{% macro group_key(type_column, employee='employee_id', team='team_name', territory='territory_code') -%}
    case {{ type_column }}
        when 'rep' then coalesce({{ employee }}, 'unassigned')
        when 'team' then coalesce({{ team }}, 'unassigned')
        when 'territory' then coalesce({{ territory }}, 'unassigned')
        else 'company'
    end
{%- endmacro %}

{#- Median, as an ordered-set aggregate where the warehouse has no median(). -#}
{% macro median(column) -%}
    {{ return(adapter.dispatch('median')(column)) }}
{%- endmacro %}

{% macro default__median(column) -%}
    percentile_cont(0.5) within group (order by {{ column }})
{%- endmacro %}

{% macro duckdb__median(column) -%}
    median({{ column }})
{%- endmacro %}

{#-
  The eight (period grain, group type) pairs a detail row is reported under, as small integer
  codes: grouping and joining on them is cheaper than on the two names (the names are joined
  back at the end). slice = 4 * grain_code + type_code.
-#}
{% macro kpi_slices() -%}
    {%- set grains = ['month', 'quarter'] -%}
    {%- set types = ['rep', 'team', 'territory', 'company'] -%}
    {%- for grain in grains -%}
        {%- set grain_code = loop.index0 -%}
        {%- for type in types %}
    {% if not (grain_code == 0 and loop.first) %}union all {% endif -%}
    select {{ 4 * grain_code + loop.index0 }} as slice, {{ grain_code }} as grain_code, {{ loop.index0 }} as type_code,
        '{{ grain }}' as period_grain, '{{ type }}' as group_type
        {%- endfor -%}
    {%- endfor %}
{%- endmacro %}

{#- The period start of a slice: the month or quarter start computed once per detail row. -#}
{% macro slice_period_start(grain_code, month_start, quarter_start) -%}
    case when {{ grain_code }} = 0 then {{ month_start }} else {{ quarter_start }} end
{%- endmacro %}

{#- The group key of a slice, as group_key() but on the type code. -#}
{% macro slice_group_key(type_code, employee='employee_id', team='team_name', territory='territory_code') -%}
    case {{ type_code }}
        when 0 then coalesce({{ employee }}, 'unassigned')
        when 1 then coalesce({{ team }}, 'unassigned')
        when 2 then coalesce({{ territory }}, 'unassigned')
        else 'company'
    end
{%- endmacro %}
