{{ config(materialized='incremental', incremental_strategy='payout_scope', on_schema_change='append_new_columns') }}
{#-
  One row per deal, credited employee and credit type (revenue or overlay): the share of a won
  deal counted for a rep, in the currency of the rep's plan, and the plan segment (rep, month,
  plan version) it counts in. credited_amount = deal amount x credit_pct / 100, converted to the
  plan currency (the deal's own amount when the currencies match; else via the reporting-currency
  amount and the plan currency's rate of the credit month), rounded to the cent. Credits of reps
  who were on no plan on the credit date keep a row with no segment (counted, not paid).
-#}
with credits as (
    select * from {{ ref('int_deal_credits_allocated') }}
    where {{ in_payout_scope('employee_id', month_label('credit_date')) }}
),

segments as (
    select
        plan_segment_key, employee_id, segment_start_date, segment_end_date, period_month, period_start_date,
        plan_version_key, plan_id, currency_code
    from {{ ref('int_plan_segments_dated') }}
),

fx as (
    {{ fx_rate_periods() }}
),

reps as (
    select rep_version_key, employee_id, valid_from, valid_to from {{ ref('dim_reps') }}
),

placed as (
    select
        credits.*,
        segments.plan_segment_key,
        segments.period_month,
        segments.plan_version_key,
        segments.plan_id,
        coalesce(segments.currency_code, credits.reporting_currency_code) as credit_currency_code,
        case
            when coalesce(segments.currency_code, credits.reporting_currency_code) = credits.deal_currency_code
                then credits.deal_amount
            when coalesce(segments.currency_code, credits.reporting_currency_code) = credits.reporting_currency_code
                then credits.deal_amount_reporting
            else credits.deal_amount_reporting / fx.rate_to_reporting
        end as amount_in_credit_currency
    from credits
    left join segments
        on credits.employee_id = segments.employee_id
        and credits.credit_date between segments.segment_start_date and segments.segment_end_date
    left join fx
        on fx.currency_code = segments.currency_code
        and credits.credit_date >= fx.valid_from
        and credits.credit_date < fx.valid_to
)

select
    placed.credit_key,
    placed.deal_id,
    placed.employee_id,
    reps.rep_version_key,
    placed.credit_type,
    placed.credit_source,
    placed.credit_pct,
    placed.credit_date,
    coalesce(placed.period_month, {{ month_label('placed.credit_date') }}) as period_month,
    placed.plan_segment_key,
    placed.plan_version_key,
    placed.plan_id,
    placed.deal_amount,
    placed.deal_currency_code,
    cast(round({{ wide_decimal('placed.amount_in_credit_currency') }} * placed.credit_pct / 100, 2) as decimal(18, 2)) as credited_amount,
    placed.credit_currency_code as currency_code,
    placed.deal_type,
    placed.pipeline_id,
    placed.contract_term_months,
    placed.is_cancelled,
    placed.cancelled_date,
    placed.plan_segment_key is not null as is_on_plan
from placed
left join reps
    on placed.employee_id = reps.employee_id
    and placed.credit_date >= reps.valid_from
    and placed.credit_date < reps.valid_to
