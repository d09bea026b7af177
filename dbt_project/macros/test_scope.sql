{#-
  Which rows a data test reads. dbt calls get_where_subquery(model) for the relation a generic
  test checks; this project's version adds one rule to dbt's `where` config:

  A model that declares `meta: {tests_scope_column: <column>}` is stamped with the build's start
  time (`staged_at()`) on every row a build (re)writes. When the model is built in the same dbt
  invocation as its tests, its row-level tests (primary_key, unique, not_null, accepted_values, relationships)
  check only the rows stamped by this invocation: the rows it wrote. A full build stamps every row,
  so every row is tested; a daily build tests the day's rows instead of rescanning millions
  (the unique test of fct_activities alone read 12.5 M rows for 2.4 s every day).

  That is enough for uniqueness because these models are incremental with delete+insert on the
  tested key: a re-derived row replaces every row of its key, so a duplicate can only arise
  among the rows written together. A test run without building the model (`spm check`,
  checks_job) or with `--vars '{test_all_rows: true}'` checks every row, as do the custom tests.

  The same holds for a raw source table that declares `meta: {tests_scope_staged_by: <model>}`,
  the incremental base model that stages it: when that model is built in the same invocation,
  the table's row-level tests check the rows of the loads it has not staged yet (a _dlt_load_id
  above its latest), the rows this build is about to stage, instead of every raw row (the unique
  tests of raw calls and e-mails alone read 11.5 M ids for about 2 s before any model could
  start). These tables are merged on their id by dlt, so an id loaded again replaces the row it
  had and a duplicate can only arise among the rows of one load (a first load appends).
-#}
{% macro get_where_subquery(relation) -%}
    {%- set conditions = [] -%}
    {%- set where = config.get('where') -%}
    {%- if where -%}
        {%- do conditions.append('(' ~ where ~ ')') -%}
    {%- endif -%}
    {%- set scope_column = tests_scope_column() -%}
    {%- if scope_column -%}
        {%- do conditions.append(scope_column ~ ' = ' ~ staged_at()) -%}
    {%- endif -%}
    {%- set unstaged_rows = source_tests_scope() -%}
    {%- if unstaged_rows -%}
        {%- do conditions.append(unstaged_rows) -%}
    {%- endif -%}
    {%- if conditions -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ conditions | join(' and ') ~ ') dbt_subquery') -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}

{#- The column that scopes the running test to this invocation's rows, or none (see above). -#}
{% macro tests_scope_column() -%}
    {%- set attached = model.get('attached_node') -%}
    {%- if not scopable_row_test() or not attached -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- if attached not in selected_resources -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- do return(graph.nodes[attached].config.meta.get('tests_scope_column')) -%}
{%- endmacro %}

{#- For a row-level test of a raw source table staged by the model its meta names (see above):
    the condition that keeps the rows that model has not staged yet, or none when the model is
    not built in this invocation or does not exist yet (then every row is tested). -#}
{% macro source_tests_scope() -%}
    {%- set source_ids = [] -%}
    {%- for node_id in model.depends_on.nodes if node_id.startswith('source.') -%}
        {%- do source_ids.append(node_id) -%}
    {%- endfor -%}
    {%- if not scopable_row_test() or source_ids | length != 1 -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- set source_node = graph.sources[source_ids[0]] -%}
    {%- set staged_by = source_node.config.meta.get('tests_scope_staged_by') or source_node.meta.get('tests_scope_staged_by') -%}
    {%- set staging_id = 'model.' ~ project_name ~ '.' ~ staged_by -%}
    {%- if not staged_by or staging_id not in selected_resources -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- set staging = graph.nodes[staging_id] -%}
    {%- set staged = adapter.get_relation(database=staging.database, schema=staging.schema, identifier=staging.alias) -%}
    {%- if staged is none -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- do return("_dlt_load_id > " ~ high_watermark('_dlt_load_id', staged)) -%}
{%- endmacro %}

{#- Whether the running test may be scoped at all: a row-level generic test (unique, not_null,
    accepted_values, relationships) at execution, unless `test_all_rows` is set. -#}
{% macro scopable_row_test() -%}
    {%- if not execute or var('test_all_rows', false) -%}
        {%- do return(false) -%}
    {%- endif -%}
    {%- set test_name = (model.get('test_metadata') or {}).get('name') -%}
    {%- do return(test_name in ('primary_key', 'unique', 'not_null', 'accepted_values', 'relationships')) -%}
{%- endmacro %}
