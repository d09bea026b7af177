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
