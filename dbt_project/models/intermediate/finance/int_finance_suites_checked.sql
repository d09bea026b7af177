{#-
  The finance gate on the quality suites: the latest validation of every suite marked
  blocks_finance (expectations/*.json), written by the run's expectation_suites step before dbt
  runs. The test blocking_suites_passed fails on a failed one, and dbt then skips every model
  downstream (int_plan_segments_dated and int_deal_credits_allocated depend on this model).
  Before any validation exists the table may be missing: then no suite is known and nothing is
  held back.
-#}
{%- set validations = source('quality', 'suite_validations') -%}
{%- set found = execute and adapter.get_relation(validations.database, validations.schema, validations.identifier) -%}
{%- if found %}
with ranked as (
    select
        suite,
        validation_id,
        validated_at,
        rows_evaluated,
        failed_critical,
        success,
        row_number() over (partition by suite order by validated_at desc, validation_id desc) as recency
    from {{ validations }}
    where blocks_finance
)

select
    suite,
    validation_id,
    validated_at,
    rows_evaluated,
    failed_critical,
    success as passed
from ranked
where recency = 1
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
