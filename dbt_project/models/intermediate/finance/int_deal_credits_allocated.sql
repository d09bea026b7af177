-- depends_on: {{ ref('int_plan_rule_violations') }}
-- depends_on: {{ ref('int_finance_suites_checked') }}
{#-
  Who is credited with each won deal, and how much (one row per deal, employee and credit type).
  - revenue: the split rows of the deal when finance entered any (percentages add to 100), else
    the deal owner (the employee linked to the CRM owner on the close date) at 100 %;
  - overlay: the deal's overlay split rows when present, else the owner's manager on the close
    date at 100 % (a manager is credited with the team's deals).
  The credit date is the deal's close date (the won date when the close date is missing); a
  deal cancelled later keeps its credit, so past attainment never moves.
  A won deal whose owner is not linked to an employee keeps a row with no employee.
  The deal's name and close date ride along for int_payout_scope_detected: a rep's statement
  lines show them.
#}
with deals as (
    select
        deal_id,
        deal_name,
        close_date,
        employee_id as owner_employee_id,
        rep_version_key as owner_rep_version_key,
        coalesce(close_date, won_date) as credit_date,
        amount,
        currency_code,
        amount_reporting,
        reporting_currency_code,
        deal_type,
        pipeline_id,
        contract_term_months,
        is_cancelled,
        cast(cancelled_at as date) as cancelled_date
    from {{ ref('fct_deals') }}
    where was_won
),

splits as (
    select deal_id, employee_id, split_type, split_pct
    from {{ ref('stg_plans__credit_splits') }}
),

split_deals as (
    select distinct deal_id, split_type from splits
),

managers as (
    select rep_version_key, manager_employee_id from {{ ref('dim_reps') }}
),

revenue as (
    select deals.deal_id, splits.employee_id, 'revenue' as credit_type, splits.split_pct as credit_pct,
        'revenue split' as credit_source
    from deals
    inner join splits on deals.deal_id = splits.deal_id and splits.split_type = 'revenue'
    union all
    select deals.deal_id, deals.owner_employee_id, 'revenue', cast(100 as decimal(9, 4)), 'deal owner'
    from deals
    left join split_deals on deals.deal_id = split_deals.deal_id and split_deals.split_type = 'revenue'
    where split_deals.deal_id is null
),

overlay as (
    select deals.deal_id, splits.employee_id, 'overlay' as credit_type, splits.split_pct as credit_pct,
        'overlay split' as credit_source
    from deals
    inner join splits on deals.deal_id = splits.deal_id and splits.split_type = 'overlay'
    union all
    select deals.deal_id, managers.manager_employee_id, 'overlay', cast(100 as decimal(9, 4)), 'owner''s manager'
    from deals
    inner join managers on deals.owner_rep_version_key = managers.rep_version_key
    left join split_deals on deals.deal_id = split_deals.deal_id and split_deals.split_type = 'overlay'
    where split_deals.deal_id is null and managers.manager_employee_id is not null
),

credits as (
    select * from revenue
    union all
    select * from overlay
)

select
    {{ dbt.concat(['credits.deal_id', "'|'", "coalesce(credits.employee_id, '-')", "'|'", 'credits.credit_type']) }}
        as credit_key,
    credits.deal_id,
    credits.employee_id,
    credits.credit_type,
    credits.credit_source,
    cast(credits.credit_pct as decimal(9, 4)) as credit_pct,
    deals.credit_date,
    deals.deal_name,
    deals.close_date as deal_close_date,
    deals.amount as deal_amount,
    deals.currency_code as deal_currency_code,
    deals.amount_reporting as deal_amount_reporting,
    deals.reporting_currency_code,
    deals.deal_type,
    deals.pipeline_id,
    deals.contract_term_months,
    deals.is_cancelled,
    deals.cancelled_date
from credits
inner join deals on credits.deal_id = deals.deal_id
