{{ config(meta={'dagster': {'ref': {'name': 'mart_commissions_monthly'}}}) }}
{#-
  Reconciliation: for every rep and period, the statement lines, the payout lines and the
  monthly mart's net payout are the same amount; for a closed period they also equal the ledger's
  current version.
-#}
with payouts as (
    select employee_id, period_month, currency_code, sum(amount) as amount, count(*) as lines
    from {{ ref('fct_payouts') }}
    group by 1, 2, 3
),

statements as (
    select employee_id, period_month, currency_code, sum(amount) as amount, count(*) as lines
    from {{ ref('mart_commission_statements') }}
    group by 1, 2, 3
),

monthly as (
    select employee_id, period_month, currency_code, net_payout_amount as amount, line_count as lines
    from {{ ref('mart_commissions_monthly') }}
    where line_count > 0
),

ledger as (
    select employee_id, period_month, currency_code, sum(amount) as amount, count(*) as lines
    from {{ ref('fct_payout_ledger') }}
    where is_current_version
    group by 1, 2, 3
),

closed as (
    select distinct employee_id, period_month, currency_code from {{ ref('fct_payouts') }} where period_status = 'closed'
)

select 'statements' as compared, payouts.employee_id, payouts.period_month, payouts.amount, statements.amount as other
from payouts
full outer join statements
    on payouts.employee_id = statements.employee_id and payouts.period_month = statements.period_month
    and payouts.currency_code = statements.currency_code
where payouts.amount is distinct from statements.amount or payouts.lines is distinct from statements.lines
union all
select 'monthly mart', payouts.employee_id, payouts.period_month, payouts.amount, monthly.amount
from payouts
full outer join monthly
    on payouts.employee_id = monthly.employee_id and payouts.period_month = monthly.period_month
    and payouts.currency_code = monthly.currency_code
where payouts.amount is distinct from monthly.amount or payouts.lines is distinct from monthly.lines
union all
select 'ledger', closed.employee_id, closed.period_month, payouts.amount, ledger.amount
from closed
inner join payouts
    on closed.employee_id = payouts.employee_id and closed.period_month = payouts.period_month
    and closed.currency_code = payouts.currency_code
left join ledger
    on closed.employee_id = ledger.employee_id and closed.period_month = ledger.period_month
    and closed.currency_code = ledger.currency_code
where payouts.amount is distinct from ledger.amount or payouts.lines is distinct from ledger.lines
