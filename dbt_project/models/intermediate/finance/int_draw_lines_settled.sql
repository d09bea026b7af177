{{ config(materialized='incremental', incremental_strategy='payout_scope', on_schema_change='append_new_columns') }}
{#-
  Draws, settled per period on the lines the period publishes (closed: the ledger; open or
  history: today's lines plus adjustments). One row per employee and period with a draw or a balance.
  - draw amount of a period = the plan's draw amount x days on the plan / days in the month;
  - non_recoverable (guarantee): pays draw - earned when earned falls short; never owed back;
  - recoverable (advance): pays the same shortfall, which becomes a balance owed; in later
    periods, earnings above the period's draw (all earnings once no draw applies) recover it
    until it is 0. balance_t = max(0, balance_t-1 + advance_t - excess_t), computed set-based as
    S_t - min(0, min over k <= t of S_k), with S the running sum of advance - excess.
-#}
with periods as (
    select period_month, period_status, closed_version from {{ ref('int_payout_periods_classified') }}
),

draw_segments as (
    select
        segments.employee_id,
        segments.period_month,
        components.draw_type,
        min(components.component_id) as component_id,
        min(segments.plan_version_key) as plan_version_key,
        min(segments.currency_code) as currency_code,
        sum(cast(round({{ wide_decimal('components.amount') }} * segments.segment_days / segments.days_in_month, 2) as decimal(18, 2)))
            as draw_amount
    from {{ ref('int_plan_segments_dated') }} as segments
    inner join {{ ref('stg_plans__plan_components') }} as components
        on segments.plan_version_key = components.plan_version_key
        and components.component_type = 'draw'
    where {{ in_payout_scope('segments.employee_id') }}
    group by segments.employee_id, segments.period_month, components.draw_type
),

draw_periods as (
    select
        employee_id,
        period_month,
        min(component_id) as component_id,
        min(plan_version_key) as plan_version_key,
        min(currency_code) as currency_code,
        sum(case when draw_type = 'recoverable' then draw_amount else 0 end) as recoverable_draw,
        sum(case when draw_type = 'non_recoverable' then draw_amount else 0 end) as guaranteed_draw
    from draw_segments
    group by employee_id, period_month
),

published as (
    select lines.employee_id, lines.period_month, lines.amount
    from {{ source('ledger', 'payout_lines') }} as lines
    inner join periods
        on lines.period_month = periods.period_month
        and lines.ledger_version = periods.closed_version
    where periods.period_status = 'closed'
        and lines.line_type not in ('draw', 'draw_recovery', 'balance_carried_forward', 'balance_recovery')
        and {{ in_payout_scope('lines.employee_id') }}
    union all
    select computed.employee_id, computed.period_month, computed.amount
    from {{ ref('int_payout_lines_computed') }} as computed
    inner join periods on computed.period_month = periods.period_month
    where periods.period_status <> 'closed' and {{ in_payout_scope('computed.employee_id') }}
    union all
    select employee_id, period_month, amount from {{ ref('int_payout_adjustments_posted') }}
    where {{ in_payout_scope('employee_id') }}
    union all
    select employee_id, period_month, amount from {{ ref('int_manual_adjustments_posted') }}
    where {{ in_payout_scope('employee_id') }}
),

earned as (
    select employee_id, period_month, sum(amount) as earned_amount
    from published
    group by employee_id, period_month
),

drawn_employees as (
    select employee_id, min(period_month) as first_draw_month
    from draw_periods
    group by employee_id
),

series as (
    {#- a month without a draw (recoveries only) keeps the component and currency of the latest
        draw month before it: a row never depends on a later month -#}
    select
        drawn_employees.employee_id,
        periods.period_month,
        last_value(draw_periods.component_id ignore nulls) over (
            partition by drawn_employees.employee_id order by periods.period_month
            rows between unbounded preceding and current row
        ) as component_id,
        draw_periods.plan_version_key,
        last_value(draw_periods.currency_code ignore nulls) over (
            partition by drawn_employees.employee_id order by periods.period_month
            rows between unbounded preceding and current row
        ) as currency_code,
        coalesce(draw_periods.recoverable_draw, 0) as recoverable_draw,
        coalesce(draw_periods.guaranteed_draw, 0) as guaranteed_draw,
        coalesce(earned.earned_amount, 0) as earned_amount
    from drawn_employees
    inner join periods on periods.period_month >= drawn_employees.first_draw_month
    left join draw_periods
        on drawn_employees.employee_id = draw_periods.employee_id
        and periods.period_month = draw_periods.period_month
    left join earned
        on drawn_employees.employee_id = earned.employee_id
        and periods.period_month = earned.period_month
),

flows as (
    select
        series.*,
        greatest(0, series.guaranteed_draw - series.earned_amount) as guarantee_paid,
        greatest(0, series.recoverable_draw - greatest(0, series.earned_amount - series.guaranteed_draw)) as advance_paid,
        greatest(0, series.earned_amount - series.recoverable_draw - series.guaranteed_draw) as excess_earned
    from series
),

running as (
    select
        flows.*,
        sum(advance_paid - excess_earned) over (
            partition by employee_id order by period_month rows between unbounded preceding and current row
        ) as running_sum
    from flows
),

balances as (
    select
        running.*,
        running_sum - least(0, min(running_sum) over (
            partition by employee_id order by period_month rows between unbounded preceding and current row
        )) as closing_balance
    from running
),

settled as (
    select
        balances.*,
        coalesce(lag(closing_balance) over (partition by employee_id order by period_month), 0) as opening_balance
    from balances
)

select
    employee_id,
    period_month,
    component_id,
    plan_version_key,
    currency_code,
    cast(recoverable_draw as decimal(18, 2)) as recoverable_draw,
    cast(guaranteed_draw as decimal(18, 2)) as guaranteed_draw,
    cast(earned_amount as decimal(18, 2)) as earned_amount,
    cast(guarantee_paid + advance_paid as decimal(18, 2)) as draw_paid,
    cast(opening_balance + advance_paid - closing_balance as decimal(18, 2)) as draw_recovered,
    cast(opening_balance as decimal(18, 2)) as opening_balance,
    cast(closing_balance as decimal(18, 2)) as closing_balance
from settled
where {{ in_payout_scope('employee_id', 'period_month') }}
