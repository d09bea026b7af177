{#-
  Required columns are contract constraints (`constraints: [{type: not_null}]`), enforced by
  DuckDB: a build that would write a null fails, and the table keeps its last content.

  dbt creates a constraint only with a new table. An incremental model inserts into the table
  it built before, so a table built before a constraint was declared would never get it. Every
  model runs this pre-hook: for an incremental build of a contracted model it adds the declared
  NOT NULL constraints the table lacks (`alter table ... alter column ... set not null`, which
  checks the rows already there and fails, naming the column, if one is null). Any other build
  it leaves alone, without a query.

  Check constraints (accepted values) are declared on tables rebuilt every run only: DuckDB
  cannot add one to an existing table, so incremental models keep accepted_values tests.
-#}
{% macro ensure_not_null_constraints() -%}
    {%- if not execute or config.get('materialized') != 'incremental' or not is_incremental() -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set contract = config.get('contract') -%}
    {%- set enforced = contract.enforced if contract is not mapping else contract.get('enforced') -%}
    {%- if not enforced -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set required = [] -%}
    {%- for name, column in model.columns.items() -%}
        {%- for constraint in column.constraints if constraint.type == 'not_null' -%}
            {%- do required.append(name) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- if not required -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set nullable = run_query(
        "select column_name from information_schema.columns where is_nullable = 'YES'"
        ~ " and table_schema = '" ~ this.schema ~ "' and table_name = '" ~ this.identifier ~ "'"
    ).columns[0].values() -%}
    {%- for name in required if name in nullable -%}
        {%- do log('Adding NOT NULL to ' ~ this ~ '.' ~ name ~ ' (declared in its contract)', info=true) -%}
        {%- do run_query('alter table ' ~ this ~ ' alter column ' ~ adapter.quote(name) ~ ' set not null') -%}
    {%- endfor -%}
    {{- return('') -}}
{%- endmacro %}
