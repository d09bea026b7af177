{{ config(materialized='incremental', incremental_strategy='payout_scope', on_schema_change='append_new_columns') }}
{#-
  Corrections to closed periods. For every closed period, what today's data computes (per
  employee, deal, component and credit type) is compared with what the ledger paid for it: the
  period's own frozen lines plus adjustments already closed in later periods that correct it.
  Any difference is posted as one adjustment line in the first open period, referencing the
  period and deal it corrects; the closed lines themselves are never touched. Draws and carried
  balances are settled at close and not re-adjusted.
-#}
with periods as (
    select period_month, period_status, closed_version, first_open_period_month
    from {{ ref('int_payout_periods_classified') }}
),

ledger as (
    select lines.*
    from {{ source('ledger', 'payout_lines') }} as lines
    inner join periods
        on lines.period_month = periods.period_month
        and lines.ledger_version = periods.closed_version
    where periods.period_status = 'closed' and {{ in_payout_scope('lines.employee_id') }}
),

paid as (
    select
        employee_id,
        case when line_type = 'adjustment' then corrects_period_month else period_month end as attributed_period_month,
        coalesce(case when line_type = 'adjustment' then corrects_deal_id else deal_id end, '-') as deal_key,
        coalesce(component_id, '-') as component_key,
        coalesce(credit_type, '-') as credit_type_key,
        currency_code,
        sum(amount) as paid_amount
    from ledger
    where line_type not in ('draw', 'draw_recovery', 'balance_carried_forward', 'balance_recovery')
    group by 1, 2, 3, 4, 5, 6
),

computed as (
    select
        computed.employee_id,
        computed.period_month as attributed_period_month,
        coalesce(computed.deal_id, '-') as deal_key,
        coalesce(computed.component_id, '-') as component_key,
        coalesce(computed.credit_type, '-') as credit_type_key,
        computed.currency_code,
        sum(computed.amount) as computed_amount,
        max(computed.plan_version_key) as plan_version_key
    from {{ ref('int_payout_lines_computed') }} as computed
    inner join periods on computed.period_month = periods.period_month
    where periods.period_status = 'closed' and {{ in_payout_scope('computed.employee_id') }}
    group by 1, 2, 3, 4, 5, 6
),

compared as (
    select
        coalesce(computed.employee_id, paid.employee_id) as employee_id,
        coalesce(computed.attributed_period_month, paid.attributed_period_month) as corrects_period_month,
        coalesce(computed.deal_key, paid.deal_key) as deal_key,
        coalesce(computed.component_key, paid.component_key) as component_key,
        coalesce(computed.credit_type_key, paid.credit_type_key) as credit_type_key,
        coalesce(computed.currency_code, paid.currency_code) as currency_code,
        computed.plan_version_key,
        coalesce(computed.computed_amount, 0) as computed_amount,
        coalesce(paid.paid_amount, 0) as paid_amount
    from computed
    full outer join paid
        on computed.employee_id = paid.employee_id
        and computed.attributed_period_month = paid.attributed_period_month
        and computed.deal_key = paid.deal_key
        and computed.component_key = paid.component_key
        and computed.credit_type_key = paid.credit_type_key
        and computed.currency_code = paid.currency_code
)

select
    compared.employee_id,
    first_open.first_open_period_month as period_month,
    case when compared.deal_key = '-' then null else compared.deal_key end as deal_id,
    compared.plan_version_key,
    case when compared.component_key = '-' then null else compared.component_key end as component_id,
    'adjustment' as line_type,
    case when compared.credit_type_key = '-' then null else compared.credit_type_key end as credit_type,
    cast(compared.computed_amount - compared.paid_amount as decimal(18, 2)) as amount,
    'adjustment: closed ' || compared.corrects_period_month || ' paid '
        || cast(compared.paid_amount as {{ dbt.type_string() }}) || ', today''s data computes '
        || cast(compared.computed_amount as {{ dbt.type_string() }}) as rule_applied,
    compared.currency_code,
    compared.corrects_period_month,
    case when compared.deal_key = '-' then null else compared.deal_key end as corrects_deal_id
from compared
cross join (select distinct first_open_period_month from periods) as first_open
where compared.computed_amount <> compared.paid_amount
    and {{ in_payout_scope('compared.employee_id', 'first_open.first_open_period_month') }}
