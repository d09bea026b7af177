{#-
  What today's data computes for closed months, beside what was closed. One row per rep, closed
  month and currency: the month head and earnings frozen at close (ledger.period_summaries and the
  ledger's lines: commission, multipliers, SPIFs, clawbacks) and the same figures as today's data
  computes them, with the adjustments posted for the month since (in later periods, closed or
  open). The closed rows of mart_commissions_monthly and of the statements never change; a
  recomputation shows here and as adjustment lines in the first open period. The data test
  recomputations_are_posted_as_adjustments checks that the adjustments posted for a month add up
  to what today's earnings differ from the closed ones.
-#}
{%- set earnings = "('commission', 'multiplier', 'spif', 'clawback')" %}
with periods as (
    select period_month, closed_version, closed_at
    from {{ ref('int_payout_periods_classified') }}
    where period_status = 'closed'
),

closed_heads as (
    select summaries.employee_id, summaries.period_month, summaries.currency_code,
        summaries.credited_bookings_amount, summaries.quota_amount, summaries.attainment
    from {{ source('ledger', 'period_summaries') }} as summaries
    inner join periods
        on summaries.period_month = periods.period_month
        and summaries.ledger_version = periods.closed_version
),

closed_earnings as (
    select employee_id, period_month, currency_code, sum(amount) as earnings_amount
    from {{ ref('fct_payouts') }}
    where period_status = 'closed' and line_type in {{ earnings }}
    group by employee_id, period_month, currency_code
),

recomputed_earnings as (
    select computed.employee_id, computed.period_month, computed.currency_code, sum(computed.amount) as earnings_amount
    from {{ ref('int_payout_lines_computed') }} as computed
    inner join periods on computed.period_month = periods.period_month
    where computed.line_type in {{ earnings }}
    group by computed.employee_id, computed.period_month, computed.currency_code
),

recomputed_quotas as (
    select segments.employee_id, segments.period_month, segments.currency_code,
        sum(segments.segment_quota_amount) as quota_amount
    from {{ ref('int_plan_segments_dated') }} as segments
    inner join periods on segments.period_month = periods.period_month
    group by segments.employee_id, segments.period_month, segments.currency_code
),

recomputed_credits as (
    select credits.employee_id, credits.period_month, credits.currency_code,
        sum(case when credits.credit_type = 'revenue' then credits.credited_amount else 0 end)
            as credited_bookings_amount
    from {{ ref('fct_credits') }} as credits
    inner join periods on credits.period_month = periods.period_month
    where credits.is_on_plan
    group by credits.employee_id, credits.period_month, credits.currency_code
),

posted as (
    select employee_id, corrects_period_month as period_month, currency_code,
        sum(amount) as adjustment_amount,
        count(*) as adjustment_line_count,
        max(period_month) as last_posted_period_month
    from {{ ref('fct_payouts') }}
    where line_type = 'adjustment'
    group by employee_id, corrects_period_month, currency_code
),

grain as (
    select employee_id, period_month, currency_code from closed_heads
    union
    select employee_id, period_month, currency_code from closed_earnings
    union
    select employee_id, period_month, currency_code from recomputed_earnings
    union
    select employee_id, period_month, currency_code from recomputed_quotas
    union
    select employee_id, period_month, currency_code from recomputed_credits
    union
    select posted.employee_id, posted.period_month, posted.currency_code
    from posted
    inner join periods on posted.period_month = periods.period_month
),

compared as (
    select
        grain.employee_id,
        grain.period_month,
        grain.currency_code,
        periods.closed_version,
        periods.closed_at,
        closed_heads.employee_id is not null as has_closed_head,
        closed_heads.credited_bookings_amount as closed_credited_bookings_amount,
        coalesce(recomputed_credits.credited_bookings_amount, 0) as recomputed_credited_bookings_amount,
        closed_heads.quota_amount as closed_quota_amount,
        recomputed_quotas.quota_amount as recomputed_quota_amount,
        closed_heads.attainment as closed_attainment,
        case when recomputed_quotas.quota_amount > 0
            then coalesce(recomputed_credits.credited_bookings_amount, 0) / recomputed_quotas.quota_amount
        end as recomputed_attainment,
        coalesce(closed_earnings.earnings_amount, 0) as closed_earnings_amount,
        coalesce(recomputed_earnings.earnings_amount, 0) as recomputed_earnings_amount,
        coalesce(posted.adjustment_amount, 0) as adjustment_amount,
        coalesce(posted.adjustment_line_count, 0) as adjustment_line_count,
        posted.last_posted_period_month
    from grain
    inner join periods on grain.period_month = periods.period_month
    left join closed_heads
        on grain.employee_id = closed_heads.employee_id
        and grain.period_month = closed_heads.period_month
        and grain.currency_code = closed_heads.currency_code
    left join closed_earnings
        on grain.employee_id = closed_earnings.employee_id
        and grain.period_month = closed_earnings.period_month
        and grain.currency_code = closed_earnings.currency_code
    left join recomputed_earnings
        on grain.employee_id = recomputed_earnings.employee_id
        and grain.period_month = recomputed_earnings.period_month
        and grain.currency_code = recomputed_earnings.currency_code
    left join recomputed_quotas
        on grain.employee_id = recomputed_quotas.employee_id
        and grain.period_month = recomputed_quotas.period_month
        and grain.currency_code = recomputed_quotas.currency_code
    left join recomputed_credits
        on grain.employee_id = recomputed_credits.employee_id
        and grain.period_month = recomputed_credits.period_month
        and grain.currency_code = recomputed_credits.currency_code
    left join posted
        on grain.employee_id = posted.employee_id
        and grain.period_month = posted.period_month
        and grain.currency_code = posted.currency_code
)

select
    {{ dbt.concat(['employee_id', "'|'", 'period_month', "'|'", 'currency_code']) }} as recomputation_key,
    employee_id,
    period_month,
    currency_code,
    cast(closed_version as integer) as closed_version,
    cast(closed_at as timestamp) as closed_at,
    has_closed_head,
    cast(closed_credited_bookings_amount as decimal(18, 2)) as closed_credited_bookings_amount,
    cast(recomputed_credited_bookings_amount as decimal(18, 2)) as recomputed_credited_bookings_amount,
    cast(closed_quota_amount as decimal(18, 2)) as closed_quota_amount,
    cast(recomputed_quota_amount as decimal(18, 2)) as recomputed_quota_amount,
    {{ rounded('closed_attainment', 'fraction') }} as closed_attainment,
    {{ rounded('recomputed_attainment', 'fraction') }} as recomputed_attainment,
    cast(closed_earnings_amount as decimal(18, 2)) as closed_earnings_amount,
    cast(recomputed_earnings_amount as decimal(18, 2)) as recomputed_earnings_amount,
    cast(recomputed_earnings_amount - closed_earnings_amount as decimal(18, 2)) as earnings_difference_amount,
    cast(adjustment_amount as decimal(18, 2)) as adjustment_amount,
    cast(adjustment_line_count as bigint) as adjustment_line_count,
    last_posted_period_month,
    (
        recomputed_earnings_amount <> closed_earnings_amount
        or (has_closed_head and (
            recomputed_credited_bookings_amount <> coalesce(closed_credited_bookings_amount, 0)
            or coalesce(recomputed_quota_amount, -1) <> coalesce(closed_quota_amount, -1)
        ))
    ) as is_recomputed_differently
from compared
