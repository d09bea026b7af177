{#-
  The as-of date of the marts, defined once: var('as_of_date') when set (YYYY-MM-DD), else the
  data's own as-of, the latest update of any staged deal (the CRM export's "now"). A SQL
  expression of type date.

  Used by fct_pipeline_snapshots (the month starts it snapshots) and by the period marts, which
  keep no period starting after it and flag each period with is_complete_period
  (docs/definitions.md, "As-of date and incomplete periods"). The var sets the as-of only: it
  does not hide events after it that the data already holds.
-#}
{% macro as_of_date() -%}
    {#- referenced on every parse, so the lineage is the same with the var set or not -#}
    {%- set deals = ref('stg_crm__deals') -%}
    {%- set configured = var('as_of_date', none) -%}
    {%- if configured is none or (configured | string | trim) == '' -%}
        (select cast(max(updated_at) as date) from {{ deals }})
    {%- else -%}
        {%- set text = configured | string | trim -%}
        {%- if not modules.re.match('^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$', text) -%}
            {{ exceptions.raise_compiler_error(
                "var as_of_date must be a date YYYY-MM-DD (or blank for the latest deal update), got '" ~ text ~ "'") }}
        {%- endif -%}
        cast('{{ text }}' as date)
    {%- endif -%}
{%- endmacro %}

{#- Last day of the month or quarter starting on period_start (grain: a SQL expression, 'month' or 'quarter'). -#}
{% macro period_end_date(grain, period_start) -%}
    case {{ grain }}
        when 'month' then cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, period_start)) }} as date)
        else cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 3, period_start)) }} as date)
    end
{%- endmacro %}

{#- is_complete_period: the period's last day is on or before the as-of date (as_of: its SQL expression). -#}
{% macro is_complete_period(last_day, as_of) -%}
    coalesce({{ last_day }} <= {{ as_of }}, false)
{%- endmacro %}
