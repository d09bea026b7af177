{#-
  The commission ledger as finance and auditors read it: one row per payout line of every closed
  version of every period (a reopened and re-closed period keeps all its versions), with whether
  the version is the one in force. Rows come from the append-only ledger table, never recomputed.
-#}
with periods as (
    select period_month, period_status, closed_version from {{ ref('int_payout_periods_classified') }}
)

select
    {{ dbt.concat(['lines.payout_line_key', "'|v'", dbt.cast('lines.ledger_version', dbt.type_string())]) }}
        as ledger_line_key,
    lines.payout_line_key,
    lines.period_month,
    cast(lines.ledger_version as integer) as ledger_version,
    cast(lines.closed_at as timestamp) as closed_at,
    lines.employee_id,
    lines.deal_id,
    lines.plan_version_key,
    lines.component_id,
    lines.line_type,
    lines.credit_type,
    cast(lines.credit_pct as decimal(9, 4)) as credit_pct,
    cast(lines.credited_amount as decimal(18, 2)) as credited_amount,
    cast(lines.tier_number as integer) as tier_number,
    cast(lines.rate as decimal(9, 6)) as rate,
    lines.rule_applied,
    cast(lines.amount as decimal(18, 2)) as amount,
    lines.currency_code,
    lines.corrects_period_month,
    lines.corrects_deal_id,
    coalesce(periods.period_status = 'closed' and periods.closed_version = lines.ledger_version, false)
        as is_current_version
from {{ source('ledger', 'payout_lines') }} as lines
left join periods on lines.period_month = periods.period_month
