{{ config(meta={'dagster': {'ref': {'name': 'mart_payroll_lines'}}}) }}
{#-
  Reconciliation of the statement heads and the payroll lines with mart_commissions_monthly: for
  every rep, month and currency the statement summary's kinds of pay add up to its net payout and
  that net is the monthly mart's; the payroll lines are never negative and their earnings minus
  deductions are the monthly mart's net payout.
-#}
with monthly as (
    select employee_id, period_month, currency_code, net_payout_amount from {{ ref('mart_commissions_monthly') }}
),

summaries as (
    select
        employee_id, period_month, currency_code, net_payout_amount,
        commission_amount + overlay_commission_amount + multiplier_amount + spif_amount + clawback_amount
            + adjustment_amount + manual_adjustment_amount + draw_paid_amount - draw_recovered_amount + balance_carried_amount
            - balance_recovered_amount as kinds_amount
    from {{ ref('mart_commission_statement_summaries') }}
),

payroll as (
    select
        employee_id, period_month, currency_code,
        sum(case when is_deduction then -amount else amount end) as amount,
        min(amount) as smallest_amount
    from {{ ref('mart_payroll_lines') }}
    group by employee_id, period_month, currency_code
)

select 'statement summary' as compared, employee_id, period_month, monthly.net_payout_amount as expected,
    summaries.kinds_amount as found
from monthly
full outer join summaries using (employee_id, period_month, currency_code)
where monthly.net_payout_amount is distinct from summaries.kinds_amount
    or monthly.net_payout_amount is distinct from summaries.net_payout_amount
union all
select 'payroll lines', employee_id, period_month, monthly.net_payout_amount, payroll.amount
from monthly
full outer join payroll using (employee_id, period_month, currency_code)
where monthly.net_payout_amount is distinct from payroll.amount or payroll.smallest_amount < 0
