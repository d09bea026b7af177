{{ config(materialized='incremental', incremental_strategy='payout_scope', on_schema_change='append_new_columns') }}
{#-
  Finance's monthly commission mart: one row per rep, month and currency (a plan pays in one
  currency, so in practice one row per rep and month). Credited bookings and quota come from the
  rep's plan segments of the month; every amount column is the sum of that rep's payout lines of
  the month by line type, so net_payout ties to fct_payouts (and, for a closed month, to the
  ledger). attainment = credited bookings / prorated quota (null without a quota).
  A closed month shows what was closed: its lines are the ledger's, and its plan, credited bookings,
  quota and attainment are the month head frozen with them (ledger.period_summaries), whatever
  today's data computes for that month (mart_commission_recomputations shows that, and the
  adjustments it caused). A month closed before the ledger kept month heads shows today's values.
-#}
with lines as (
    select
        employee_id,
        period_month,
        currency_code,
        period_status,
        ledger_version,
        sum(case when line_type = 'commission' then amount else 0 end) as commission_amount,
        sum(case when line_type = 'multiplier' then amount else 0 end) as multiplier_amount,
        sum(case when line_type = 'spif' then amount else 0 end) as spif_amount,
        sum(case when line_type = 'clawback' then amount else 0 end) as clawback_amount,
        sum(case when line_type = 'adjustment' then amount else 0 end) as adjustment_amount,
        sum(case when line_type = 'manual_adjustment' then amount else 0 end) as manual_adjustment_amount,
        sum(case when line_type = 'draw' then amount else 0 end) as draw_paid_amount,
        -sum(case when line_type = 'draw_recovery' then amount else 0 end) as draw_recovered_amount,
        sum(case when line_type = 'balance_carried_forward' then amount else 0 end) as balance_carried_amount,
        -sum(case when line_type = 'balance_recovery' then amount else 0 end) as balance_recovered_amount,
        sum(amount) as net_payout_amount,
        count(*) as line_count
    from {{ ref('fct_payouts') }}
    where {{ in_payout_scope('employee_id', 'period_month') }}
    group by employee_id, period_month, currency_code, period_status, ledger_version
),

segments as (
    select employee_id, period_month, currency_code, sum(segment_quota_amount) as quota_amount,
        min(plan_id) as plan_id, count(distinct plan_version_key) as plan_count
    from {{ ref('int_plan_segments_dated') }}
    where {{ in_payout_scope('employee_id', 'period_month') }}
    group by employee_id, period_month, currency_code
),

credits as (
    select employee_id, period_month, currency_code,
        sum(case when credit_type = 'revenue' then credited_amount else 0 end) as credited_bookings_amount,
        sum(case when credit_type = 'overlay' then credited_amount else 0 end) as overlay_credit_amount
    from {{ ref('fct_credits') }}
    where is_on_plan and {{ in_payout_scope('employee_id', 'period_month') }}
    group by employee_id, period_month, currency_code
),

periods as (
    select period_month, period_status, closed_version from {{ ref('int_payout_periods_classified') }}
),

frozen_periods as (
    -- closed months whose version has its month heads in the ledger
    select distinct periods.period_month
    from periods
    inner join {{ source('ledger', 'period_summaries') }} as summaries
        on periods.period_month = summaries.period_month
        and periods.closed_version = summaries.ledger_version
    where periods.period_status = 'closed'
),

frozen as (
    select summaries.employee_id, summaries.period_month, summaries.currency_code, summaries.plan_id,
        summaries.credited_bookings_amount, summaries.overlay_credit_amount, summaries.quota_amount,
        summaries.attainment
    from {{ source('ledger', 'period_summaries') }} as summaries
    inner join periods
        on summaries.period_month = periods.period_month
        and summaries.ledger_version = periods.closed_version
    where periods.period_status = 'closed'
        and {{ in_payout_scope('summaries.employee_id', 'summaries.period_month') }}
),

grain as (
    select employee_id, period_month, currency_code from lines
    union
    select employee_id, period_month, currency_code from segments
    where period_month not in (select period_month from frozen_periods)
    union
    select employee_id, period_month, currency_code from frozen
),

names as (
    select employee_id, rep_name, rep_version_key,
        row_number() over (partition by employee_id order by valid_from desc) as recency
    from {{ ref('dim_reps') }}
)

select
    {{ dbt.concat(['grain.employee_id', "'|'", 'grain.period_month', "'|'", 'grain.currency_code']) }} as commission_month_key,
    grain.employee_id,
    names.rep_name,
    grain.period_month,
    cast({{ parse_date("grain.period_month || '-01'") }} as date) as period_start_date,
    case when frozen_periods.period_month is null then segments.plan_id else frozen.plan_id end as plan_id,
    cast(case
        when frozen_periods.period_month is null then coalesce(credits.credited_bookings_amount, 0)
        else coalesce(frozen.credited_bookings_amount, 0)
    end as decimal(18, 2)) as credited_bookings_amount,
    cast(case
        when frozen_periods.period_month is null then coalesce(credits.overlay_credit_amount, 0)
        else coalesce(frozen.overlay_credit_amount, 0)
    end as decimal(18, 2)) as overlay_credit_amount,
    cast(case when frozen_periods.period_month is null then segments.quota_amount else frozen.quota_amount end
        as decimal(18, 2)) as quota_amount,
    cast(case
        when frozen_periods.period_month is not null then frozen.attainment
        when segments.quota_amount > 0 then coalesce(credits.credited_bookings_amount, 0) / segments.quota_amount
    end as decimal(18, 4)) as attainment,
    cast(coalesce(lines.commission_amount, 0) + coalesce(lines.multiplier_amount, 0) as decimal(18, 2)) as commission_amount,
    cast(coalesce(lines.spif_amount, 0) as decimal(18, 2)) as spif_amount,
    cast(coalesce(lines.clawback_amount, 0) as decimal(18, 2)) as clawback_amount,
    cast(coalesce(lines.adjustment_amount, 0) as decimal(18, 2)) as adjustment_amount,
    cast(coalesce(lines.manual_adjustment_amount, 0) as decimal(18, 2)) as manual_adjustment_amount,
    cast(coalesce(lines.draw_paid_amount, 0) as decimal(18, 2)) as draw_paid_amount,
    cast(coalesce(lines.draw_recovered_amount, 0) as decimal(18, 2)) as draw_recovered_amount,
    cast(coalesce(lines.balance_carried_amount, 0) as decimal(18, 2)) as balance_carried_amount,
    cast(coalesce(lines.balance_recovered_amount, 0) as decimal(18, 2)) as balance_recovered_amount,
    cast(coalesce(lines.net_payout_amount, 0) as decimal(18, 2)) as net_payout_amount,
    grain.currency_code,
    cast(coalesce(lines.line_count, 0) as bigint) as line_count,
    coalesce(periods.period_status, 'open') as period_status,
    cast(periods.closed_version as integer) as closed_version
from grain
left join lines
    on grain.employee_id = lines.employee_id
    and grain.period_month = lines.period_month
    and grain.currency_code = lines.currency_code
left join segments
    on grain.employee_id = segments.employee_id
    and grain.period_month = segments.period_month
    and grain.currency_code = segments.currency_code
left join credits
    on grain.employee_id = credits.employee_id
    and grain.period_month = credits.period_month
    and grain.currency_code = credits.currency_code
left join frozen
    on grain.employee_id = frozen.employee_id
    and grain.period_month = frozen.period_month
    and grain.currency_code = frozen.currency_code
left join frozen_periods on grain.period_month = frozen_periods.period_month
left join periods on grain.period_month = periods.period_month
left join names on grain.employee_id = names.employee_id and names.recency = 1
