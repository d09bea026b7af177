{#-
  The payout scope: which employees' commission rows a finance build re-derives.

  Every row of the scoped finance models (fct_credits through fct_payouts, the statements and the
  monthly mart) belongs to one employee, and is a function of that employee's inputs (plan
  segments, credits, rep versions, the deals their lines name) and of inputs every employee
  shares (plans, rate tables, FX, the ledger, the months computed, the models' code).
  int_payout_scope_detected fingerprints both per month; a build re-derives an employee's rows
  from the earliest month whose fingerprint differs from the one the tables were last built from,
  and everything when a shared input moved. On a large company's day inside a month that is 532
  of 5,517 keys, nearly all from the current month.

  A scoped model is configured with
      materialized='incremental', incremental_strategy='payout_scope', on_schema_change='append_new_columns'
  and filters the scans its rows come from with `in_payout_scope('employee_id', 'period_month')`
  (or `in_payout_scope('employee_id')`, every month of the scope's employees, where a row needs
  earlier months); the strategy deletes the scope's rows from the table and inserts the new ones
  (an employee whose rows are gone loses them). A new column is added to the table
  (append_new_columns) and filled on every row, since a change to a finance model's code re-derives
  everything. Rows without an employee (credits of unlinked CRM owners) have the
  scope key '-'.
-#}

{#-
  Relation of the scope model; calling ref() here also makes every scoped model depend on it. A
  unit test has no such input (it re-derives everything), so none there.
-#}
{% macro payout_scope_id() -%}
    {{ return('model.' ~ project_name ~ '.int_payout_scope_detected') }}
{%- endmacro %}

{% macro payout_scope_relation() -%}
    {%- if model.resource_type == 'unit_test' -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(ref('int_payout_scope_detected')) }}
{%- endmacro %}

{#-
  Whether this build re-derives everything: no incremental build, the scope model not selected in
  this invocation (its rows would be an earlier build's scope), or a shared input changed.
-#}
{% macro payout_scope_is_everything() -%}
    {%- set scope = payout_scope_relation() -%}
    {%- if not execute or scope is none or not is_incremental() -%}
        {{ return(true) }}
    {%- endif -%}
    {%- if selected_resources and payout_scope_id() not in selected_resources -%}
        {{ return(true) }}
    {%- endif -%}
    {%- set everything = run_query(
        "select coalesce(max(case when scope_key = '*' and rederive_from_month is not null then 1 else 0 end), 1) from "
        ~ scope
    ).columns[0].values()[0] -%}
    {{ return(everything == 1) }}
{%- endmacro %}

{#-
  Predicate: the row of employee `column` and period `period_month` is in this build's scope
  (the employee's months from their rederive_from_month on); without `period_month`, any of the
  employee's rows is. `true` when everything is re-derived.
-#}
{% macro in_payout_scope(column, period_month=none) -%}
    {%- set scope = payout_scope_relation() -%}
    {%- if payout_scope_is_everything() -%}
        true
    {%- elif period_month is none -%}
        coalesce({{ column }}, '-') in (select scope_key from {{ scope }} where rederive_from_month is not null)
    {%- else -%}
        exists (
            select 1 from {{ scope }} as payout_scope
            where payout_scope.scope_key = coalesce({{ column }}, '-')
                and payout_scope.fingerprint_month = ''
                and payout_scope.rederive_from_month <= {{ period_month }}
        )
    {%- endif -%}
{%- endmacro %}

{#- Incremental strategy 'payout_scope': replace the scope's rows (by employee_id and period_month,
    which every scoped model has) with the build's. -#}
{% macro get_incremental_payout_scope_sql(arg_dict) -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ arg_dict['target_relation'] }}
    where {{ in_payout_scope('employee_id', 'period_month') }};
    insert into {{ arg_dict['target_relation'] }} ({{ columns }})
    select {{ columns }} from {{ arg_dict['temp_relation'] }}
{%- endmacro %}

{#-
  One fingerprint per key and month of `relation`'s rows: every column but `exclude` goes into a
  row hash, summed per `key` and `month` (expressions; month '' for inputs of every month). Order
  does not matter; a changed, added or removed row changes the sum. `tag` keeps equal rows of
  different relations apart.
-#}
{% macro fingerprint_rows(relation, key, month, tag, exclude=[]) -%}
    {%- if not execute -%}
        select cast(null as {{ dbt.type_string() }}) as scope_key, cast(null as {{ dbt.type_string() }}) as fingerprint_month,
            cast(null as {{ fingerprint_type() }}) as fingerprint
    {%- else -%}
        {%- set columns = [] -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- if column.name | lower not in exclude -%}
                {%- do columns.append(adapter.quote(column.name)) -%}
            {%- endif -%}
        {%- endfor -%}
        select {{ key }} as scope_key, {{ month }} as fingerprint_month,
            sum({{ row_hash(["'" ~ tag ~ "'"] + columns) }}) as fingerprint
        from {{ relation }}
        group by 1, 2
    {%- endif -%}
{%- endmacro %}

{#- A 64-bit hash of `expressions` (nulls included), as fingerprint_type(), to be summed. -#}
{% macro row_hash(expressions) -%}
    {{ return(adapter.dispatch('row_hash')(expressions)) }}
{%- endmacro %}

{% macro duckdb__row_hash(expressions) -%}
    cast(hash({{ expressions | join(', ') }}) as hugeint)
{%- endmacro %}

{% macro default__row_hash(expressions) -%}
    {{ exceptions.raise_compiler_error(
        "row_hash (macros/payout_scope.sql) has no implementation for the " ~ adapter.type()
        ~ " adapter: add " ~ adapter.type() ~ "__row_hash, a 64-bit hash of the expressions as a wide integer"
    ) }}
{%- endmacro %}

{% macro fingerprint_type() -%}
    {{ return(adapter.dispatch('fingerprint_type')()) }}
{%- endmacro %}

{% macro default__fingerprint_type() -%}hugeint{%- endmacro %}

{#-
  on-run-end: mark the scope as applied once every scoped model was built in this invocation and
  nothing in it failed or was skipped. Until then the next build keeps comparing with the
  fingerprints the tables were last fully built from, so a failed build's employees stay in scope.
-#}
{% macro commit_payout_scope(results) -%}
    {%- if execute -%}
        {%- set scope_id = payout_scope_id() -%}
        {%- set scoped = [] -%}
        {%- for node in graph.nodes.values() -%}
            {%- if node.resource_type == 'model' and node.config.get('incremental_strategy') == 'payout_scope' -%}
                {%- do scoped.append(node.unique_id) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- set built = [] -%}
        {%- set failed = [] -%}
        {%- for result in results -%}
            {%- if result.status in ('error', 'fail', 'skipped') -%}
                {%- do failed.append(result.node.unique_id) -%}
            {%- elif result.status == 'success' -%}
                {%- do built.append(result.node.unique_id) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- set missing = scoped | reject('in', built) | list -%}
        {%- if scope_id in built and not failed and not missing -%}
            update {{ graph.nodes[scope_id].relation_name }} set is_committed = true
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
