{#-
  The finance gate on the quality suites: the latest validation of every suite that blocks
  finance (blocks_finance in expectations/*.json, as quality.suites lists them now), written by
  the run's expectation_suites step before dbt runs. The test blocking_suites_passed fails on a
  failed one, and dbt then skips every model downstream (int_plan_segments_dated and
  int_deal_credits_allocated depend on this model). A suite renamed, removed or no longer
  blocking drops out with the catalog. Before the suites have run once the tables may be missing:
  then no suite is known and nothing is held back.
-#}
{%- set validations = source('quality', 'suite_validations') -%}
{%- set catalog = source('quality', 'suites') -%}
{%- set found = execute
    and adapter.get_relation(validations.database, validations.schema, validations.identifier)
    and adapter.get_relation(catalog.database, catalog.schema, catalog.identifier) -%}
{%- if found %}
with latest as (
    select
        suite,
        validation_id,
        validated_at,
        rows_evaluated,
        failed_critical,
        success,
        row_number() over (partition by suite order by validated_at desc, validation_id desc) as recency
    from {{ validations }}
)

select
    latest.suite,
    latest.validation_id,
    latest.validated_at,
    latest.rows_evaluated,
    latest.failed_critical,
    latest.success as passed
from latest
inner join {{ catalog }} as suites
    on latest.suite = suites.suite
where latest.recency = 1
    and suites.blocks_finance
{%- else %}
select
    cast(null as {{ dbt.type_string() }}) as suite,
    cast(null as {{ dbt.type_string() }}) as validation_id,
    cast(null as {{ dbt.type_timestamp() }}) as validated_at,
    cast(null as {{ dbt.type_bigint() }}) as rows_evaluated,
    cast(null as {{ dbt.type_int() }}) as failed_critical,
    cast(null as {{ dbt.type_boolean() }}) as passed
where 1 = 0
{%- endif %}
