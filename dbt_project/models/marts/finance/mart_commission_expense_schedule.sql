{#-
  ASC 340-40 amortisation schedule: one row per capitalised payout line and month it is
  amortised in. Commissions that are incremental costs of obtaining a contract (commission,
  multiplier, SPIF and adjustment lines tied to a deal) are capitalised when the deal's contract
  term is over 12 months and amortised straight-line by month over the rest of the term, starting
  in the month the line is paid (term months left = term - months from the close month to the
  paid month, at least 1). Each month's amount is rounded to the cent and the last month takes the
  remainder, so a line's schedule sums to the line. When the deal is cancelled, the asset left is
  written off in the cancellation month (the schedule stops there). Terms of 12 months or less
  (practical expedient), clawbacks, draws and lines without a deal are expensed at once and appear
  only in the roll-forward.
-#}
with deals as (
    select deal_id, contract_term_months, close_date, is_cancelled, cast(cancelled_at as date) as cancelled_date
    from {{ ref('fct_deals') }}
),

capitalised as (
    select
        lines.payout_line_key,
        lines.period_month,
        lines.period_start_date,
        lines.employee_id,
        coalesce(lines.deal_id, lines.corrects_deal_id) as deal_id,
        lines.line_type,
        lines.amount,
        lines.currency_code,
        deals.contract_term_months,
        cast({{ dbt.date_trunc('month', 'deals.cancelled_date') }} as date) as cancelled_month,
        greatest(1, deals.contract_term_months - {{ dbt.datediff(dbt.date_trunc('month', 'deals.close_date'), 'lines.period_start_date', 'month') }})
            as amortisation_months
    from {{ ref('fct_payouts') }} as lines
    inner join deals on coalesce(lines.deal_id, lines.corrects_deal_id) = deals.deal_id
    where lines.line_type in ('commission', 'multiplier', 'spif', 'adjustment')
        and deals.contract_term_months > 12
        and lines.amount <> 0
        and (deals.cancelled_date is null
            or lines.period_start_date <= cast({{ dbt.date_trunc('month', 'deals.cancelled_date') }} as date))
),

steps as (
    select cast(generated_number - 1 as integer) as month_index
    from ({{ dbt.generate_series(240) }}) as numbers
),

scheduled as (
    select
        capitalised.*,
        steps.month_index,
        cast({{ dbt.dateadd('month', 'steps.month_index', 'capitalised.period_start_date') }} as date) as amortisation_month,
        cast(round(capitalised.amount / capitalised.amortisation_months, 2) as decimal(18, 2)) as level_amount
    from capitalised
    inner join steps on steps.month_index < capitalised.amortisation_months
),

cut as (
    select
        scheduled.*,
        scheduled.month_index = scheduled.amortisation_months - 1 as is_last_month,
        scheduled.cancelled_month is not null and scheduled.amortisation_month = scheduled.cancelled_month
            as is_write_off
    from scheduled
    where scheduled.cancelled_month is null or scheduled.amortisation_month <= scheduled.cancelled_month
)

select
    {{ dbt.concat(['payout_line_key', "'|'", dbt.cast('month_index', dbt.type_string())]) }} as schedule_key,
    payout_line_key,
    deal_id,
    employee_id,
    line_type,
    period_month as paid_period_month,
    cast(amount as decimal(18, 2)) as capitalised_amount,
    contract_term_months,
    cast(amortisation_months as integer) as amortisation_months,
    month_index + 1 as month_number,
    amortisation_month,
    {{ month_label('amortisation_month') }} as amortisation_period_month,
    cast(case
        when is_last_month or is_write_off then amount - level_amount * month_index
        else level_amount
    end as decimal(18, 2)) as amortised_amount,
    is_write_off,
    currency_code
from cut
