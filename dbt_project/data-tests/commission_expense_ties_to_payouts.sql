{{ config(meta={'dagster': {'ref': {'name': 'mart_commission_expense_rollforward'}}}) }}
{#-
  ASC 340-40 ties: each capitalised line's schedule sums to the line; every month's roll-forward
  opens where the previous month closed; capitalised + expensed at once = the month's payouts.
-#}
with schedules as (
    select payout_line_key, max(capitalised_amount) as capitalised, sum(amortised_amount) as amortised
    from {{ ref('mart_commission_expense_schedule') }}
    group by payout_line_key
),

rolled as (
    select
        rollforward.*,
        lag(closing_asset_amount) over (partition by currency_code order by period_month) as previous_closing
    from {{ ref('mart_commission_expense_rollforward') }} as rollforward
),

payouts as (
    select period_month, currency_code, sum(amount) as amount from {{ ref('fct_payouts') }} group by 1, 2
)

select 'schedule does not sum to the line' as problem, payout_line_key as record, capitalised - amortised as difference
from schedules
where capitalised <> amortised
union all
select 'opening asset is not the previous closing', period_month, opening_asset_amount - coalesce(previous_closing, 0)
from rolled
where opening_asset_amount <> coalesce(previous_closing, 0)
union all
select 'roll-forward does not tie to payouts', rolled.period_month,
    rolled.capitalised_amount + rolled.expensed_immediately_amount - coalesce(payouts.amount, 0)
from rolled
left join payouts on rolled.period_month = payouts.period_month and rolled.currency_code = payouts.currency_code
where rolled.capitalised_amount + rolled.expensed_immediately_amount <> coalesce(payouts.amount, 0)
