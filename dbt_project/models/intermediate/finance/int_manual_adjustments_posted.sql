{{ config(materialized='incremental', incremental_strategy='payout_scope', on_schema_change='append_new_columns') }}
{#-
  Disputes finance approved (plans/manual_adjustments; docs/commission_plans.md), as ready-to-pay
  lines: one row per approved adjustment whose pay period is not closed, in its pay period, with
  the reason, requester and approver in words the rep reads on the statement. Requested and
  rejected ones stay in staging only. An adjustment already frozen by its period's close is the
  ledger's (a change to it afterwards is a rule violation: a new adjustment is needed), and one
  whose period closed without it is a rule violation too (int_plan_rule_violations), so neither
  reaches this model. The rep's plan version is the one of the pay period in the adjustment's
  currency (the latest segment when the plan changed within the month).
-#}
with adjustments as (
    select *
    from {{ ref('stg_plans__manual_adjustments') }}
    where status = 'approved'
        and pay_period_month is not null
        and {{ in_payout_scope('employee_id', 'pay_period_month') }}
),

periods as (
    select period_month, period_status from {{ ref('int_payout_periods_classified') }}
),

plan_versions as (
    select
        employee_id,
        period_month,
        currency_code,
        plan_version_key,
        row_number() over (
            partition by employee_id, period_month, currency_code order by segment_start_date desc, plan_version_key
        ) as recency
    from {{ ref('int_plan_segments_dated') }}
),

payable as (
    select adjustments.*, plan_versions.plan_version_key
    from adjustments
    left join periods on adjustments.pay_period_month = periods.period_month
    left join plan_versions
        on adjustments.employee_id = plan_versions.employee_id
        and adjustments.pay_period_month = plan_versions.period_month
        and adjustments.currency_code = plan_versions.currency_code
        and plan_versions.recency = 1
    where coalesce(periods.period_status, 'open') <> 'closed'
)

select
    cast({{ manual_adjustment_line_key('employee_id', 'pay_period_month', 'adjustment_id') }} as {{ dbt.type_string() }})
        as payout_line_key,
    pay_period_month as period_month,
    employee_id,
    deal_id,
    plan_version_key,
    cast(null as {{ dbt.type_string() }}) as component_id,
    'manual_adjustment' as line_type,
    cast(null as {{ dbt.type_string() }}) as credit_type,
    {{ dbt.concat([
        "'manual adjustment '", 'adjustment_id', "' ('", "replace(category, '_', ' ')",
        "coalesce(' on deal ' || deal_id, '')", "coalesce(', ' || corrects_period_month, '')", "'): '", 'reason',
        "'; requested by '", 'requested_by', "coalesce(' on ' || cast(requested_on as " ~ dbt.type_string() ~ "), '')",
        "', approved by '", 'approved_by', "' on '", dbt.cast('approved_on', dbt.type_string())
    ]) }} as rule_applied,
    cast(amount as decimal(18, 2)) as amount,
    currency_code,
    corrects_period_month,
    deal_id as corrects_deal_id,
    adjustment_id,
    category,
    requested_by,
    approved_by,
    _source_file as source_file,
    cast(_source_line as {{ dbt.type_bigint() }}) as source_line
from payable
