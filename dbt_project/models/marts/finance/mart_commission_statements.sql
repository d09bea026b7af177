{{ config(materialized='incremental', incremental_strategy='payout_scope', on_schema_change='append_new_columns') }}
{#-
  Commission statements: one row per payout line, with everything a rep needs to check it
  without a spreadsheet of their own: the deal (name, close date, amount), their credit share and
  credited amount, the band and rate, the rule applied in words, and what an adjustment or
  clawback corrects. `spm statements YYYY-MM` writes one file per rep from this mart; the
  statement total is the sum of its lines (= net_payout_amount in mart_commissions_monthly).
  band_amount is the part of the credit inside the line's band (what its rate is paid on); the
  plan's name and version and the component's type let a statement label each line. The deal is
  shown as the line was computed from it (fct_payouts: as it was at close on a closed line).
-#}
with lines as (
    select * from {{ ref('fct_payouts') }}
    where {{ in_payout_scope('employee_id', 'period_month') }}
),

plans as (
    select plan_version_key, plan_id, plan_version, plan_name from {{ ref('stg_plans__commission_plans') }}
),

components as (
    select plan_version_key, component_id, component_type from {{ ref('stg_plans__plan_components') }}
),

names as (
    select employee_id, rep_name,
        row_number() over (partition by employee_id order by valid_from desc) as recency
    from {{ ref('dim_reps') }}
)

select
    lines.payout_line_key,
    lines.period_month,
    lines.employee_id,
    names.rep_name,
    lines.line_type,
    lines.component_id,
    lines.plan_version_key,
    plans.plan_id,
    plans.plan_name,
    cast(plans.plan_version as integer) as plan_version,
    components.component_type,
    lines.deal_id,
    lines.deal_name,
    lines.deal_close_date,
    lines.deal_amount,
    lines.deal_currency_code,
    {{ statement_reference('coalesce(lines.deal_id, lines.corrects_deal_id)', 'lines.deal_updated_at') }}
        as statement_reference,
    lines.credit_type,
    lines.credit_pct,
    lines.credited_amount,
    lines.band_amount,
    lines.tier_number,
    lines.rate,
    cast(case when lines.line_type = 'multiplier' then lines.rate - 1 end as decimal(9, 6)) as multiplier_extra,
    lines.rule_applied,
    lines.amount,
    lines.currency_code,
    lines.corrects_period_month,
    lines.corrects_deal_id,
    lines.period_status,
    lines.ledger_version,
    case lines.line_type
        when 'commission' then 1 when 'multiplier' then 2 when 'spif' then 3 when 'clawback' then 4
        when 'adjustment' then 5 when 'draw' then 6 else 7
    end as line_order
from lines
left join plans on lines.plan_version_key = plans.plan_version_key
left join components
    on lines.plan_version_key = components.plan_version_key and lines.component_id = components.component_id
left join names on lines.employee_id = names.employee_id and names.recency = 1
