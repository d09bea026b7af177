{#-
  Rejected rows. A staging `base_` model computes, for each record, the first check it fails
  (`_reject_reason`, `_reject_field`, `_reject_value`: all null for a clean row); the `stg_`
  model keeps the clean rows and the `rejects_` model the others, together with the rows dlt
  could not merge (`raw_<source>.<entity>_rejected`). Nothing is dropped between raw and
  staging: the test `every_raw_row_is_staged_or_rejected` counts both sides.

  A check is a dict: `when` (SQL condition on the raw columns), `reason`, `field` (the raw
  field's name as the source spells it) and optionally `value` (SQL for the offending value;
  default: the field itself).
-#}

{% macro reject_columns(checks) -%}
    case
        {%- for check in checks %}
        when {{ check.when }} then '{{ check.reason }}'
        {%- endfor %}
    end as _reject_reason,
    case
        {%- for check in checks %}
        when {{ check.when }} then '{{ check.field }}'
        {%- endfor %}
    end as _reject_field,
    case
        {%- for check in checks %}
        when {{ check.when }} then cast({{ check.value or check.field }} as {{ dbt.type_string() }})
        {%- endfor %}
    end as _reject_value
{%- endmacro %}

{#- Checks shared by many entities. -#}
{% macro unparseable_timestamp(column, reason='not an ISO-8601 timestamp or epoch milliseconds') -%}
    {{ return({'when': "nullif(trim(" ~ column ~ "), '') is not null and (" ~ utc_timestamp(column) ~ ") is null", 'reason': reason, 'field': column}) }}
{%- endmacro %}

{% macro missing_value(column, reason='missing required value') -%}
    {{ return({'when': "nullif(trim(" ~ column ~ "), '') is null", 'reason': reason, 'field': column, 'value': "'null'"}) }}
{%- endmacro %}

{% macro unparseable_decimal(column, reason='not a number') -%}
    {{ return({'when': "nullif(trim(" ~ column ~ "), '') is not null and (" ~ parse_decimal(column) ~ ") is null", 'reason': reason, 'field': column}) }}
{%- endmacro %}

{% macro unparseable_integer(column, reason='not a whole number') -%}
    {{ return({'when': "nullif(trim(" ~ column ~ "), '') is not null and (" ~ parse_integer(column) ~ ") is null", 'reason': reason, 'field': column}) }}
{%- endmacro %}

{% macro unparseable_date(column, reason='not a date (YYYY-MM-DD)') -%}
    {{ return({'when': "nullif(trim(" ~ column ~ "), '') not in ('0000-00-00') and (" ~ parse_date(column) ~ ") is null", 'reason': reason, 'field': column}) }}
{%- endmacro %}

{#- A non-null owner id that is not a CRM owner; `known_owners` is a relation with `owner_id`. -#}
{% macro unknown_owner(column='hubspot_owner_id') -%}
    {{ return({'when': "nullif(trim(" ~ column ~ "), '') is not null and " ~ column ~ " not in (select owner_id from known_owners)", 'reason': 'unknown owner (not a CRM owner)', 'field': column}) }}
{%- endmacro %}

{#- A CTE body listing the owner ids the CRM knows (archived owners included). -#}
{% macro known_owners_cte() -%}
    known_owners as (
        select distinct cast(id as {{ dbt.type_string() }}) as owner_id from {{ source('crm', 'owners') }}
    )
{%- endmacro %}

{#- The load time of a dlt load id (seconds since the epoch, as text). -#}
{% macro load_time(column) -%}
    {{ return(adapter.dispatch('load_time')(column)) }}
{%- endmacro %}

{% macro default__load_time(column) -%}
    {{ dbt.dateadd('second', 'cast(cast(' ~ column ~ ' as double precision) as bigint)', "cast('1970-01-01' as timestamp)") }}
{%- endmacro %}

{% macro duckdb__load_time(column) -%}
    cast(to_timestamp(cast({{ column }} as double)) at time zone 'UTC' as timestamp)
{%- endmacro %}

{#-
  Body of a `rejects_` model: staging rejects of `base` (null: none) and the load rejects of
  `load_rejects` (a source relation; null: none), in one layout.
-#}
{% macro rejects_of(entity, key, base=none, load_rejects=none) -%}
    {%- set parts = [] -%}
    {%- if base is not none -%}
        {%- do parts.append(
            "select '" ~ entity ~ "' as entity, cast(" ~ key ~ " as " ~ dbt.type_string() ~ ") as record_id, "
            ~ "'staging' as rejected_at_step, _reject_reason as reason, _reject_field as field, "
            ~ "_reject_value as rejected_value, _source_file as source_file, cast(_source_line as bigint) as source_line, "
            ~ "_dlt_load_id as load_id, " ~ load_time('_dlt_load_id') ~ " as loaded_at "
            ~ "from " ~ base ~ " where _reject_reason is not null"
        ) -%}
    {%- endif -%}
    {%- if load_rejects is not none -%}
        {%- do parts.append(
            "select '" ~ entity ~ "' as entity, record_id, 'load' as rejected_at_step, reason, field, "
            ~ "record as rejected_value, _source_file as source_file, cast(_source_line as bigint) as source_line, "
            ~ "_dlt_load_id as load_id, " ~ load_time('_dlt_load_id') ~ " as loaded_at "
            ~ "from " ~ load_rejects
        ) -%}
    {%- endif -%}
    {{ parts | join('\nunion all\n') }}
{%- endmacro %}

{#-
  Source rows a `base_` model must (re)process. A full build: all of them. An incremental build:
  the rows dlt merged since the model last ran (a newer `_dlt_load_id`: new records and new
  versions, which replace the old ones by key), plus the records the model holds as rejected,
  whose check can pass now (an owner that arrived since). Raw CRM tables are merged by key and
  never lose a record, so nothing else can change, except where a check reads reference data of
  another table (deals: FX rates, pipeline stages): `recheck` (SQL selecting `model_key`s of
  this model) names the staged records that reference data no longer lets through.
-#}
{% macro rows_to_stage(relation, source_key, model_key, recheck=none) -%}
    select * from {{ relation }}
    {%- if is_incremental() %}
    {#- two selects, not one `or`: the load filter alone lets DuckDB skip the row groups of
        earlier loads (see high_watermark) -#}
    {%- set last_load = high_watermark('_dlt_load_id') %}
    where _dlt_load_id > {{ last_load }}
    union all
    select * from {{ relation }}
    where not coalesce(_dlt_load_id > {{ last_load }}, false)
        and cast({{ source_key }} as {{ dbt.type_string() }}) in (
            select {{ model_key }} from {{ this }} where _reject_reason is not null
            {%- if recheck is not none %}
            union
            {{ recheck }}
            {%- endif %}
        )
    {%- endif %}
{%- endmacro %}

{#- When this dbt invocation started (UTC): marks the rows a `base_` model (re)processed, so that an
    incremental fact downstream picks up exactly those rows (new, updated or no longer rejected). -#}
{% macro staged_at() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}
