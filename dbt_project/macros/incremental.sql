{#-
  The largest `column` of `relation` (by default the running model's table) as a constant of
  `data_type`, or the SQL `default` when the table has no rows, for an incremental filter such as
  `_dlt_load_id > {{ high_watermark('_dlt_load_id') }}`.

  A constant lets DuckDB compare it with each row group's min/max and skip the row groups below
  it; new loads are appended, so a day's rows sit in the last few. The same comparison with a
  subquery (`> (select max(...) from this)`) is only known while the query runs, and every row of
  the table is read: the select of base_crm__calls took 0.4 s for a day's load at the large scale,
  0.01 s with the constant. The value is read when the node runs, as the subquery would.
  At parse time, and in a unit test (where `relation` is a fixture), it is the subquery.
-#}
{% macro high_watermark(column, relation=this, data_type=none, default="''") -%}
    {%- set data_type = data_type or dbt.type_string() -%}
    {%- set subquery = "(select coalesce(max(" ~ column ~ "), " ~ default ~ ") from " ~ relation ~ ")" -%}
    {%- if not execute or model.resource_type == 'unit_test' -%}
        {{ return(subquery) }}
    {%- endif -%}
    {%- set value = run_query(
        "select " ~ dbt.cast("max(" ~ column ~ ")", dbt.type_string()) ~ " from " ~ relation
    ).columns[0].values()[0] -%}
    {%- if value is none -%}
        {{ return(default) }}
    {%- endif -%}
    {{ return("cast('" ~ (value | replace("'", "''")) ~ "' as " ~ data_type ~ ")") }}
{%- endmacro %}

{#-
  Filter of one activity type's staging rows for an incremental build of fct_activities: the rows
  staging (re)processed since the table's last run (`previous_run`, the table's latest staged_at).
  A constant, so DuckDB skips the row groups staged before it. A full build takes every row.
-#}
{% macro activities_to_derive(previous_run) -%}
    {%- if is_incremental() %}
    where _staged_at > {{ previous_run }}
    {%- endif %}
{%- endmacro %}

{#- Post-hook of fct_activities: drop the activities whose latest version staging now rejects
    (an incremental build only adds or replaces rows by key). -#}
{% macro delete_rejected_activities() -%}
    delete from {{ this }}
    where activity_id in (
        select 'call:' || call_id from {{ ref('base_crm__calls') }} where _reject_reason is not null
        union all
        select 'email:' || email_id from {{ ref('base_crm__emails') }} where _reject_reason is not null
        union all
        select 'meeting:' || meeting_id from {{ ref('base_crm__meetings') }} where _reject_reason is not null
    )
{%- endmacro %}

{#- The keys of `rows` an incremental build re-derives because of what dlt loaded: those whose rows
    were loaded since this table's last build (a newer _dlt_load_id), and those not in this table
    yet (held back before and let through now). `key` is the column of `rows`, `this_key` the
    same key in the model's table; the keys are returned as `this_key`. -#}
{% macro keys_loaded_since_last_build(rows, key, this_key) -%}
    select {{ key }} as {{ this_key }} from {{ rows }}
    where _dlt_load_id > {{ high_watermark('_dlt_load_id') }}
    union
    select {{ key }} from {{ rows }}
    where {{ key }} not in (select {{ this_key }} from {{ this }})
{%- endmacro %}

{#- Post-hook of stg_crm__deal_stage_history and fct_deal_stage_transitions: drop the deals staging
    now holds back (an incremental build only replaces the deals it re-derives). -#}
{% macro delete_held_back_deals() -%}
    delete from {{ this }}
    where deal_id in (select deal_id from {{ ref('base_crm__deals') }} where _reject_reason is not null)
{%- endmacro %}

{#- The kind of a stage change, from the stage left (null for a deal's first entry) and the stage
    entered: created | cancelled (won, then lost) | won | lost | forward | backward | same. -#}
{% macro transition_direction(from_stage_id, from_is_won, from_order, to_is_won, to_is_lost, to_order) -%}
    case
        when {{ from_stage_id }} is null then 'created'
        when {{ to_is_lost }} and {{ from_is_won }} then 'cancelled'
        when {{ to_is_won }} then 'won'
        when {{ to_is_lost }} then 'lost'
        when {{ to_order }} > {{ from_order }} then 'forward'
        when {{ to_order }} < {{ from_order }} then 'backward'
        else 'same'
    end
{%- endmacro %}

{#- Whether the running model's table lacks a column it now keeps (it was built by an earlier
    version of the model, before it was incremental or kept that column): its first incremental
    run then re-derives every row instead of trusting rows that cannot be compared or scoped. -#}
{% macro this_lacks_column(column_name) -%}
    {%- if not execute -%}
        {%- do return(false) -%}
    {%- endif -%}
    {%- set names = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list -%}
    {%- do return(column_name | lower not in names) -%}
{%- endmacro %}

{#- Post-hook of int_lead_responses_measured: drop the leads whose contact is now archived or
    rejected (an incremental build only replaces the contacts it re-derives). -#}
{% macro delete_leads_no_longer_staged() -%}
    delete from {{ this }}
    where contact_id in (
        select contact_id from {{ ref('base_crm__contacts') }}
        where is_archived or _reject_reason is not null
    )
{%- endmacro %}

{#- The rows of `facts` (this model's table) whose rep version no longer fits the rep history:
    key, owner or `date_column` miss every version of the model's `reps` CTE now (a back-dated
    team change), or no rep yet while a version of the owner covers the date now (a rep linked
    since). Returns `columns` of those rows, possibly a row twice (use it with `in` or `union`).
    On a day without such a change it returns nothing, so a model reading its rows back by key
    reads nothing at all. -#}
{% macro rep_version_misfits(facts, columns, date_column) -%}
    select {{ columns }}
    from {{ facts }} as facts
    left join reps
        on facts.rep_version_key = reps.rep_version_key
        and facts.owner_id = reps.owner_id
        and facts.{{ date_column }} >= reps.valid_from
        and facts.{{ date_column }} < reps.valid_to
    where facts.owner_id is not null
        and facts.rep_version_key is not null
        and reps.rep_version_key is null
    union all
    select {{ columns }}
    from {{ facts }} as facts
    inner join reps
        on facts.owner_id = reps.owner_id
        and facts.{{ date_column }} >= reps.valid_from
        and facts.{{ date_column }} < reps.valid_to
    where facts.rep_version_key is null
{%- endmacro %}

{#- fct_deals: the FX rate period (fx_rate_periods) that converts a deal: the one holding its close
    month, else its creation month. -#}
{% macro deal_fx_matches(deals, fx) -%}
    {%- set month = deal_fx_month(deals ~ '.close_date', deals ~ '.created_at') -%}
    {{ fx }}.currency_code = {{ deals }}.currency_code
    and {{ month }} >= {{ fx }}.valid_from
    and {{ month }} < {{ fx }}.valid_to
{%- endmacro %}

{#- The month whose FX rate converts a deal: its close month, else its creation month (for
    deal_fx_matches, and for staging, which rejects a deal with no rate for that month). -#}
{% macro deal_fx_month(close_date, created_at) -%}
    cast({{ dbt.date_trunc('month', 'coalesce(' ~ close_date ~ ', cast(' ~ created_at ~ ' as date))') }} as date)
{%- endmacro %}

{#- fct_deals: the rep version a deal counts for: the owner's version valid on the close date
    for a closed deal, the owner's current version for an open one. -#}
{% macro deal_rep_matches(deals, reps) -%}
    {{ deals }}.owner_id = {{ reps }}.owner_id
    and (
        (not {{ deals }}.is_open and {{ deals }}.close_date >= {{ reps }}.valid_from and {{ deals }}.close_date < {{ reps }}.valid_to)
        or ({{ deals }}.is_open and {{ reps }}.is_current)
    )
{%- endmacro %}
