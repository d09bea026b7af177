{{ config(materialized='incremental', incremental_strategy='payout_scope', on_schema_change='append_new_columns') }}
{#-
  Every payout line as today's data computes it, for every period, before the ledger is
  consulted: rate-table commission, multipliers, SPIFs and clawbacks (draws are settled later,
  on the published lines). One row per line, keyed by payout_line_key. band_amount is the part of
  the credited amount inside the line's band (int_commission_lines_tiered; rate-table lines only).
-#}
with lines as (
    select
        period_month, employee_id, deal_id, plan_version_key, component_id, 'commission' as line_type, credit_type,
        credit_pct, credited_amount, band_amount, tier_number, rate, rule_applied, amount, currency_code,
        cast(null as {{ dbt.type_string() }}) as corrects_period_month,
        cast(null as {{ dbt.type_string() }}) as corrects_deal_id
    from {{ ref('int_commission_lines_tiered') }}
    where {{ in_payout_scope('employee_id', 'period_month') }}
    union all
    select
        period_month, employee_id, deal_id, plan_version_key, component_id, line_type, credit_type,
        credit_pct, credited_amount, cast(null as decimal(18, 2)), cast(null as integer), rate, rule_applied, amount,
        currency_code, cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }})
    from {{ ref('int_bonus_lines_applied') }}
    where {{ in_payout_scope('employee_id', 'period_month') }}
    union all
    select
        period_month, employee_id, deal_id, plan_version_key, component_id, 'clawback', credit_type,
        credit_pct, credited_amount, cast(null as decimal(18, 2)), cast(null as integer), cast(null as decimal(9, 6)),
        rule_applied, amount, currency_code, original_period_month, deal_id
    from {{ ref('int_clawback_lines_posted') }}
    where {{ in_payout_scope('employee_id', 'period_month') }}
)

select
    {{ payout_line_key('employee_id', 'period_month', 'line_type', 'component_id', 'credit_type', 'deal_id',
        'tier_number', 'corrects_period_month') }} as payout_line_key,
    period_month,
    cast({{ parse_date("period_month || '-01'") }} as date) as period_start_date,
    employee_id,
    deal_id,
    plan_version_key,
    component_id,
    line_type,
    credit_type,
    credit_pct,
    credited_amount,
    band_amount,
    tier_number,
    rate,
    rule_applied,
    amount,
    currency_code,
    corrects_period_month,
    corrects_deal_id
from lines
