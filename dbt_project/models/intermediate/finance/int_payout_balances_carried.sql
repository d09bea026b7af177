{{ config(materialized='incremental', incremental_strategy='payout_scope', on_schema_change='append_new_columns') }}
{#-
  Negative balances carried forward. A month whose lines net to less than zero (clawbacks over
  earnings) pays 0: its shortfall becomes a balance the rep owes, recovered from the following
  months' net pay until it is 0, as a recoverable draw is. One row per rep, payable month (open or
  closed: history months before the go-live are never paid, so they carry nothing) and currency,
  with the month's net before the balance, the balance change (positive: a shortfall carried,
  posted as a balance_carried_forward line that brings the month to 0; negative: a recovery,
  posted as a balance_recovery line) and the balances.

  balance_t = max(0, balance_t-1 - net_t), computed set-based as S_t - min(0, min over k <= t of
  S_k), with S the opening balance plus the running sum of -net. A closed month keeps the balance
  lines frozen with it (the ledger); the open months start from the balance the closed ones left.

  A rep who left (latest HRIS version's termination date) settles the balance in their last month
  on or before the leaving month, and every later month's shortfall (a clawback after leaving) in
  that month: var commission_leaver_balance decides whether it is written off ('write_off') or
  reported for collection ('collect', the default). Either way the balance closes at 0 and nothing
  negative is paid.
-#}
{%- set policy = var('commission_leaver_balance', 'collect') | string | trim %}
{%- if policy not in ['collect', 'write_off'] %}
    {{ exceptions.raise_compiler_error(
        "var commission_leaver_balance must be 'collect' or 'write_off', got '" ~ policy ~ "'") }}
{%- endif %}
{%- set balance_lines = "('balance_carried_forward', 'balance_recovery')" %}
with periods as (
    select period_month, period_status, closed_version from {{ ref('int_payout_periods_classified') }}
),

closed_months as (
    select
        lines.employee_id,
        lines.period_month,
        lines.currency_code,
        sum(case when lines.line_type not in {{ balance_lines }} then lines.amount else 0 end) as net_before_balance,
        sum(case when lines.line_type in {{ balance_lines }} then lines.amount else 0 end) as frozen_change
    from {{ source('ledger', 'payout_lines') }} as lines
    inner join periods
        on lines.period_month = periods.period_month
        and lines.ledger_version = periods.closed_version
    where periods.period_status = 'closed' and {{ in_payout_scope('lines.employee_id') }}
    group by lines.employee_id, lines.period_month, lines.currency_code
),

open_lines as (
    select employee_id, period_month, currency_code, amount
    from {{ ref('int_payout_lines_computed') }}
    where {{ in_payout_scope('employee_id') }}
    union all
    select employee_id, period_month, currency_code, amount
    from {{ ref('int_payout_adjustments_posted') }}
    where {{ in_payout_scope('employee_id') }}
    union all
    select employee_id, period_month, currency_code, amount
    from {{ ref('int_manual_adjustments_posted') }}
    where {{ in_payout_scope('employee_id') }}
    union all
    select employee_id, period_month, currency_code, draw_paid - draw_recovered
    from {{ ref('int_draw_lines_settled') }}
    where {{ in_payout_scope('employee_id') }}
),

open_months as (
    select open_lines.employee_id, open_lines.period_month, open_lines.currency_code,
        sum(open_lines.amount) as net_before_balance
    from open_lines
    inner join periods on open_lines.period_month = periods.period_month
    where periods.period_status = 'open'
    group by open_lines.employee_id, open_lines.period_month, open_lines.currency_code
),

leavers as (
    select employee_id, {{ month_label('termination_date') }} as leaving_month, termination_date
    from (
        select employee_id, termination_date,
            row_number() over (partition by employee_id order by valid_from desc) as recency
        from {{ ref('dim_reps') }}
    ) as versions
    where recency = 1 and termination_date is not null
),

months as (
    select employee_id, period_month, currency_code, net_before_balance, frozen_change, true as is_closed
    from closed_months
    union all
    select employee_id, period_month, currency_code, net_before_balance, cast(null as decimal(18, 2)), false
    from open_months
),

placed as (
    select
        months.*,
        leavers.leaving_month,
        leavers.termination_date,
        coalesce(months.period_month > leavers.leaving_month, false) as is_after_leaving,
        -- the month a leaver's balance is settled in: their last month on or before the leaving month
        max(case when months.period_month <= leavers.leaving_month then months.period_month end) over (
            partition by months.employee_id, months.currency_code
        ) as settlement_month
    from months
    left join leavers on months.employee_id = leavers.employee_id
),

closed_balance as (
    select employee_id, currency_code, sum(frozen_change) as start_balance
    from placed
    where is_closed and not is_after_leaving
    group by employee_id, currency_code
),

chained as (
    -- the open months before (or in) leaving: the running balance from where the closed months left it
    select
        placed.employee_id,
        placed.period_month,
        placed.currency_code,
        coalesce(closed_balance.start_balance, 0) + sum(-placed.net_before_balance) over (
            partition by placed.employee_id, placed.currency_code order by placed.period_month
            rows between unbounded preceding and current row
        ) as running_sum,
        coalesce(closed_balance.start_balance, 0) as start_balance
    from placed
    left join closed_balance
        on placed.employee_id = closed_balance.employee_id
        and placed.currency_code = closed_balance.currency_code
    where not placed.is_closed and not placed.is_after_leaving
),

balanced as (
    select
        employee_id,
        period_month,
        currency_code,
        running_sum - least(0, min(running_sum) over (
            partition by employee_id, currency_code order by period_month
            rows between unbounded preceding and current row
        )) as closing_before_settlement,
        start_balance
    from chained
),

open_changes as (
    select
        employee_id,
        period_month,
        currency_code,
        closing_before_settlement - coalesce(
            lag(closing_before_settlement) over (partition by employee_id, currency_code order by period_month),
            start_balance
        ) as balance_change
    from balanced
),

changes as (
    select
        placed.*,
        case
            when placed.is_closed then placed.frozen_change
            when placed.is_after_leaving then greatest(0, -placed.net_before_balance)
            else open_changes.balance_change
        end as balance_change
    from placed
    left join open_changes
        on placed.employee_id = open_changes.employee_id
        and placed.period_month = open_changes.period_month
        and placed.currency_code = open_changes.currency_code
),

opened as (
    select
        changes.*,
        case
            when changes.is_after_leaving then 0
            else coalesce(sum(changes.balance_change) over (
                partition by changes.employee_id, changes.currency_code order by changes.period_month
                rows between unbounded preceding and 1 preceding
            ), 0)
        end as opening_balance,
        changes.is_after_leaving or coalesce(changes.period_month = changes.settlement_month, false) as is_settled
    from changes
)

select
    employee_id,
    period_month,
    currency_code,
    cast(net_before_balance as decimal(18, 2)) as net_before_balance_amount,
    cast(opening_balance as decimal(18, 2)) as opening_balance_amount,
    cast(balance_change as decimal(18, 2)) as balance_change_amount,
    cast(case when is_settled then opening_balance + balance_change else 0 end as decimal(18, 2)) as settled_amount,
    case when is_settled and opening_balance + balance_change <> 0 then '{{ policy }}' end as settlement,
    cast(termination_date as date) as termination_date,
    cast(case when is_settled then 0 else opening_balance + balance_change end as decimal(18, 2))
        as closing_balance_amount,
    is_closed
from opened
where {{ in_payout_scope('employee_id', 'period_month') }}
