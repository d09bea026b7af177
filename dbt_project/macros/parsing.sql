{#-
  Parsing raw text columns into typed values. Raw tables keep what the source sent (HubSpot and
  BambooHR send text); these macros are the one place that knows the formats. Each is
  dispatched, so another warehouse can bring its own implementation.
-#}

{#- ISO-8601 text (with Z or an offset) or epoch milliseconds -> UTC timestamp (no time zone). -#}
{% macro utc_timestamp(column) -%}
    {{ return(adapter.dispatch('utc_timestamp')(column)) }}
{%- endmacro %}

{% macro default__utc_timestamp(column) -%}
    case
        when {{ column }} is null or trim({{ column }}) = '' then null
        when {{ column }} not like '%-%' then {{ dbt.dateadd('millisecond', 'cast(' ~ column ~ ' as bigint)', "cast('1970-01-01' as timestamp)") }}
        else cast({{ column }} as timestamp)
    end
{%- endmacro %}

{#- Epoch milliseconds have at most 15 digits (year 33658): 16 overflow DuckDB's microseconds
    (make_timestamp raised an out-of-range error and failed the whole staging model); they fall
    through to the timestamp cast, which gives null, so the row is rejected as unparseable. -#}
{% macro duckdb__utc_timestamp(column) -%}
    case
        when {{ column }} is null or trim({{ column }}) = '' then null
        when regexp_full_match(trim({{ column }}), '-?[0-9]{9,15}') then make_timestamp(try_cast(trim({{ column }}) as bigint) * 1000)
        else try_cast(try_cast(trim({{ column }}) as timestamptz) at time zone 'UTC' as timestamp)
    end
{%- endmacro %}

{#- ISO date text -> date; BambooHR's empty date '0000-00-00' and '' -> null. -#}
{% macro parse_date(column) -%}
    {{ return(adapter.dispatch('parse_date')(column)) }}
{%- endmacro %}

{% macro default__parse_date(column) -%}
    case when {{ column }} in ('', '0000-00-00') then null else cast({{ column }} as date) end
{%- endmacro %}

{% macro duckdb__parse_date(column) -%}
    case when {{ column }} in ('', '0000-00-00') then null else try_cast({{ column }} as date) end
{%- endmacro %}

{#- Decimal text -> exact DECIMAL (money is never float). -#}
{% macro parse_decimal(column, precision=18, scale=2) -%}
    {{ return(adapter.dispatch('parse_decimal')(column, precision, scale)) }}
{%- endmacro %}

{% macro default__parse_decimal(column, precision, scale) -%}
    cast(nullif(trim({{ column }}), '') as decimal({{ precision }}, {{ scale }}))
{%- endmacro %}

{% macro duckdb__parse_decimal(column, precision, scale) -%}
    try_cast(nullif(trim({{ column }}), '') as decimal({{ precision }}, {{ scale }}))
{%- endmacro %}

{#- Integer text -> bigint. -#}
{% macro parse_integer(column) -%}
    {{ return(adapter.dispatch('parse_integer')(column)) }}
{%- endmacro %}

{% macro default__parse_integer(column) -%}
    cast(nullif(trim({{ column }}), '') as bigint)
{%- endmacro %}

{% macro duckdb__parse_integer(column) -%}
    try_cast(nullif(trim({{ column }}), '') as bigint)
{%- endmacro %}

{#- 'true' / 'false' text -> boolean. -#}
{% macro parse_boolean(column) -%}
    case lower(trim(cast({{ column }} as {{ dbt.type_string() }})))
        when 'true' then true when 'false' then false else null
    end
{%- endmacro %}

{#- Latest version of each record: rank 1 of this window is kept. -#}
{% macro latest_first(partition_by, order_by) -%}
    row_number() over (partition by {{ partition_by }} order by {{ order_by }})
{%- endmacro %}

{#-
  Widen a DECIMAL before multiplying it: DuckDB keeps a product of two DECIMAL(18, s) in 18 digits,
  so amount x rate x probability (scale 12) overflows above a million. Cast the first factor to
  DECIMAL(38, 10) and round the result back to the money type.
-#}
{% macro wide_decimal(expression) -%}
    cast({{ expression }} as decimal(38, 10))
{%- endmacro %}
