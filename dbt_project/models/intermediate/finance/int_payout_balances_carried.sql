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

  A rep who left (latest HRIS version's termination date) settles the balance once the leaving
  month has ended (before the run's as-of month), in their first open month from the leaving month
  on, and every later month's shortfall (a clawback after leaving) in that month: var
  commission_leaver_balance decides whether it is written off ('write_off') or reported for
  collection ('collect', the default). Either way the balance closes at 0 and nothing negative is
  paid. A closed month shows the balances frozen with it (ledger.period_summaries), and the open
  months start from the balance the latest closed one left (a settled balance stays settled, even
  if the rep is rehired); a month closed before the ledger kept balances counts its frozen
  balance lines.
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
    -- a leaver whose leaving month has ended by the run's as-of month
    select employee_id, {{ month_label('termination_date') }} as leaving_month, termination_date
    from (
        select employee_id, termination_date,
            row_number() over (partition by employee_id order by valid_from desc) as recency
        from {{ ref('dim_reps') }}
    ) as versions
    where recency = 1 and termination_date is not null
        and {{ month_label('termination_date') }} < {{ month_label(as_of_date()) }}
),

frozen_balances as (
    -- the balances each closed month was closed with (null for a close made before they were kept)
    select summaries.employee_id, summaries.period_month, summaries.currency_code,
        summaries.opening_balance_amount, summaries.closing_balance_amount, summaries.balance_settled_amount,
        summaries.balance_settlement
    from {{ source('ledger', 'period_summaries') }} as summaries
    inner join periods
        on summaries.period_month = periods.period_month
        and summaries.ledger_version = periods.closed_version
    where periods.period_status = 'closed' and summaries.closing_balance_amount is not null
        and {{ in_payout_scope('summaries.employee_id') }}
),

months as (
    select employee_id, period_month, currency_code, net_before_balance, frozen_change, true as is_closed
    from closed_months
    union all
    select employee_id, period_month, currency_code, net_before_balance, cast(null as decimal(18, 2)), false
    from open_months
),

settling as (
    -- the month a leaver's balance is settled in: their first open month from the leaving month on
    select months.employee_id, months.currency_code, min(months.period_month) as settlement_month
    from months
    inner join leavers on months.employee_id = leavers.employee_id
    where not months.is_closed and months.period_month >= leavers.leaving_month
    group by months.employee_id, months.currency_code
),

placed as (
    select
        months.*,
        leavers.termination_date,
        settling.settlement_month,
        coalesce(months.period_month > settling.settlement_month, false) as is_after_leaving
    from months
    left join leavers on months.employee_id = leavers.employee_id
    left join settling
        on months.employee_id = settling.employee_id
        and months.currency_code = settling.currency_code
),

latest_frozen as (
    select employee_id, currency_code, period_month, closing_balance_amount,
        row_number() over (partition by employee_id, currency_code order by period_month desc) as recency
    from frozen_balances
),

closed_balance as (
    -- where the open months start: the closing balance of the latest closed month that kept one, plus
    -- the frozen balance lines of any later closed month that did not
    select
        placed.employee_id,
        placed.currency_code,
        max(coalesce(latest.closing_balance_amount, 0))
            + sum(case when latest.period_month is null or placed.period_month > latest.period_month
                then placed.frozen_change else 0 end) as start_balance
    from placed
    left join latest_frozen as latest
        on placed.employee_id = latest.employee_id
        and placed.currency_code = latest.currency_code
        and latest.recency = 1
    where placed.is_closed
    group by placed.employee_id, placed.currency_code
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
            when changes.is_closed then coalesce(sum(changes.balance_change) over (
                partition by changes.employee_id, changes.currency_code order by changes.period_month
                rows between unbounded preceding and 1 preceding
            ), 0)
            else coalesce(closed_balance.start_balance, 0) + coalesce(sum(
                case when changes.is_closed then 0 else changes.balance_change end
            ) over (
                partition by changes.employee_id, changes.currency_code order by changes.period_month
                rows between unbounded preceding and 1 preceding
            ), 0)
        end as opening_balance,
        not changes.is_closed
            and (changes.is_after_leaving or coalesce(changes.period_month = changes.settlement_month, false))
            as is_settled
    from changes
    left join closed_balance
        on changes.employee_id = closed_balance.employee_id
        and changes.currency_code = closed_balance.currency_code
),

derived as (
    select
        employee_id,
        period_month,
        currency_code,
        net_before_balance,
        opening_balance,
        balance_change,
        case when is_settled then opening_balance + balance_change else 0 end as settled,
        case when is_settled and opening_balance + balance_change <> 0 then '{{ policy }}' end as settlement,
        termination_date,
        case when is_settled then 0 else opening_balance + balance_change end as closing_balance,
        is_closed
    from opened
)

select
    derived.employee_id,
    derived.period_month,
    derived.currency_code,
    cast(derived.net_before_balance as decimal(18, 2)) as net_before_balance_amount,
    cast(coalesce(frozen.opening_balance_amount, derived.opening_balance) as decimal(18, 2)) as opening_balance_amount,
    cast(derived.balance_change as decimal(18, 2)) as balance_change_amount,
    cast(coalesce(frozen.balance_settled_amount, derived.settled) as decimal(18, 2)) as settled_amount,
    case when frozen.employee_id is not null then frozen.balance_settlement else derived.settlement end as settlement,
    cast(derived.termination_date as date) as termination_date,
    cast(coalesce(frozen.closing_balance_amount, derived.closing_balance) as decimal(18, 2)) as closing_balance_amount,
    derived.is_closed
from derived
left join frozen_balances as frozen
    on derived.employee_id = frozen.employee_id
    and derived.period_month = frozen.period_month
    and derived.currency_code = frozen.currency_code
where {{ in_payout_scope('derived.employee_id', 'derived.period_month') }}
