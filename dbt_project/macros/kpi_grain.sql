{#-
  Helpers for marts reported per period (month, quarter) and per group (rep, team, territory,
  company). A detail row is crossed with the period grains and group types, then aggregated.
-#}

{% macro kpi_grain_names() -%}
    {{ return(['month', 'quarter']) }}
{%- endmacro %}

{% macro kpi_group_type_names() -%}
    {{ return(['rep', 'team', 'territory', 'company']) }}
{%- endmacro %}

{% macro kpi_grains() -%}
    {%- for grain in kpi_grain_names() %}
    {% if not loop.first %}union all {% endif %}select '{{ grain }}' as period_grain
    {%- endfor %}
{%- endmacro %}

{% macro kpi_group_types() -%}
    {%- for group_type in kpi_group_type_names() %}
    {% if not loop.first %}union all {% endif %}select '{{ group_type }}' as group_type
    {%- endfor %}
{%- endmacro %}

{#-
  `figures` (aggregate expressions) of `rows` per period and group: one narrow aggregate per
  grain and group type, unioned, instead of every row crossed with kpi_grains() and
  kpi_group_types() and aggregated once. The same rows; for holistic figures (medians), which
  keep every value of a group in memory until the group is done, each of the eight aggregates
  holds one eighth of the values the crossed one did. `where` filters `rows`.
-#}
{% macro aggregate_per_period_and_group(rows, date_column, figures, where=none,
                                        employee='employee_id', team='team_name', territory='territory_code') -%}
    {%- set pairs = [] -%}
    {%- for grain in kpi_grain_names() -%}
        {%- for group_type in kpi_group_type_names() -%}
            {%- do pairs.append([grain, group_type]) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- for grain, group_type in pairs %}
    {% if not loop.first %}union all
    {% endif -%}
    select
        '{{ grain }}' as period_grain,
        {{ period_start("'" ~ grain ~ "'", date_column) }} as period_start_date,
        '{{ group_type }}' as group_type,
        {{ group_key("'" ~ group_type ~ "'", employee, team, territory) }} as group_key,
        {{ figures }}
    from {{ rows }}
    {%- if where %}
    where {{ where }}
    {%- endif %}
    group by 1, 2, 3, 4
    {%- endfor %}
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
