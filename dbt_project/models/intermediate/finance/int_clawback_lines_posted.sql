{{ config(materialized='incremental', incremental_strategy='payout_scope', on_schema_change='append_new_columns') }}
{#-
  Clawbacks: a credited deal cancelled within its plan's clawback window (days from the credit
  date to the cancellation date) gives back what it earned, at the amount it was computed at in its
  original period (commission, multiplier and per-deal SPIF lines of that credit, per component),
  in the month the cancellation is known. The original period's credits and attainment are left
  as they were. A cancellation dated before the credit date reclaims nothing (nothing had been
  earned yet; domain.md: a paid deal cancelled later). One row per cancelled credit and component.
-#}
with credits as (
    select credits.credit_key, credits.deal_id, credits.employee_id, credits.credit_type, credits.credit_pct,
        credits.credit_date, credits.cancelled_date, credits.period_month, credits.plan_version_key,
        credits.credited_amount, segments.clawback_window_days
    from {{ ref('fct_credits') }} as credits
    inner join {{ ref('int_plan_segments_dated') }} as segments
        on credits.plan_segment_key = segments.plan_segment_key
    where credits.is_cancelled
        and {{ in_payout_scope('credits.employee_id', month_label('credits.cancelled_date')) }}
        and credits.cancelled_date >= credits.credit_date
        and {{ dbt.datediff('credits.credit_date', 'credits.cancelled_date', 'day') }}
            <= coalesce(segments.clawback_window_days, 0)
),

earned as (
    select credit_key, component_id, currency_code, sum(amount) as earned_amount
    from (
        select credit_key, component_id, currency_code, amount from {{ ref('int_commission_lines_tiered') }}
        where {{ in_payout_scope('employee_id') }}
        union all
        select credit_key, component_id, currency_code, amount from {{ ref('int_bonus_lines_applied') }}
        where credit_key is not null and {{ in_payout_scope('employee_id') }}
    ) as lines
    group by credit_key, component_id, currency_code
)

select
    credits.credit_key,
    credits.deal_id,
    credits.employee_id,
    credits.credit_type,
    credits.credit_pct,
    credits.credit_date,
    {{ month_label('credits.cancelled_date') }} as period_month,
    credits.plan_version_key,
    earned.component_id,
    credits.credited_amount,
    cast(-earned.earned_amount as decimal(18, 2)) as amount,
    'clawback: cancelled ' || cast(credits.cancelled_date as {{ dbt.type_string() }}) || ', '
        || cast({{ dbt.datediff('credits.credit_date', 'credits.cancelled_date', 'day') }} as {{ dbt.type_string() }})
        || ' days after the credit date (window ' || cast(credits.clawback_window_days as {{ dbt.type_string() }})
        || '); reclaims what ' || credits.period_month || ' computed' as rule_applied,
    credits.period_month as original_period_month,
    earned.currency_code
from credits
inner join earned on credits.credit_key = earned.credit_key
where earned.earned_amount <> 0
