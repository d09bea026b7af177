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

  Incremental, by payout line (8 M schedule rows at the large scale took 6 to 7 s to derive whole
  every day). A build re-derives the lines whose inputs (amount, period, rep, type, currency, the
  deal's term, close and cancellation month as it cuts the schedule) differ from those the table
  holds, new lines included; the post-hook deletes the lines no longer capitalised. A table built
  before this model was incremental has no built_at: its first incremental run re-derives every line.
  Every row carries built_at, the start of the build that wrote it, and the row-level tests of a
  build check the rows it wrote (macros/test_scope.sql). `dbt build --full-refresh -s
  mart_commission_expense_schedule` rebuilds it whole (needed after a change to this logic).
-#}
{{ config(
    materialized='incremental',
    unique_key='payout_line_key',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    post_hook=["{{ delete_lines_no_longer_capitalised() }}"],
) }}
{%- set derive_changed_only = is_incremental() and not this_lacks_column('built_at') %}
with capitalised as (
    {{ capitalised_payout_lines() }}
),
{%- if derive_changed_only %}

built as (
    select
        first_month.payout_line_key,
        first_month.paid_period_month as period_month,
        first_month.employee_id,
        first_month.deal_id,
        first_month.line_type,
        first_month.capitalised_amount as amount,
        first_month.currency_code,
        first_month.contract_term_months,
        first_month.amortisation_months,
        write_offs.amortisation_month as write_off_month
    from {{ this }} as first_month
    left join {{ this }} as write_offs
        on first_month.payout_line_key = write_offs.payout_line_key
        and write_offs.is_write_off
    where first_month.month_number = 1
),

lines_to_derive as (
    select payout_line_key from (
        select
            payout_line_key, period_month, employee_id, deal_id, line_type, amount, currency_code,
            contract_term_months, amortisation_months, write_off_month
        from capitalised
        except
        select
            payout_line_key, period_month, employee_id, deal_id, line_type, amount, currency_code,
            contract_term_months, amortisation_months, write_off_month
        from built
    ) as changed
),
{%- endif %}

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
    {%- if derive_changed_only %}
    where capitalised.payout_line_key in (select payout_line_key from lines_to_derive)
    {%- endif %}
),

cut as (
    select
        scheduled.*,
        scheduled.month_index = scheduled.amortisation_months - 1 as is_last_month,
        coalesce(scheduled.amortisation_month = scheduled.write_off_month, false) as is_write_off
    from scheduled
    where scheduled.write_off_month is null or scheduled.amortisation_month <= scheduled.write_off_month
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
    currency_code,
    {{ staged_at() }} as built_at
from cut
