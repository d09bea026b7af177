{#-
  Commission expense roll-forward (ASC 340-40), one row per month and currency:
  opening asset + capitalised - amortised = closing asset, and commission expense = amortised +
  expensed at once. capitalised + expensed_immediately = total payout of the month in
  fct_payouts (the ledger, for closed months): every payout line is either capitalised (see
  mart_commission_expense_schedule) or expensed in its month; draws, recoveries and negative
  balances carried forward are expensed as paid (a simplification: an unrecovered advance or a
  carried negative balance is not carried as a receivable).
  Commission as a share of bookings (cost of sales) = the month's total payout over the company's
  bookings of the same month, for the reporting currency's row only: a payout is earned when its
  deal books, so both belong to the month, where the ASC 340-40 expense spreads it over the
  contract. Bookings as mart_sales_kpis counts them (won, not archived, by close month, in the
  reporting currency), summed here from fct_deals rather than read from that mart: the KPIs also
  read activities and leads, whose failed tests must not hold finance back (the data test
  commission_share_ties_to_sales_kpis checks both agree).
-#}
with payouts as (
    select period_month, currency_code, sum(amount) as total_payout_amount
    from {{ ref('fct_payouts') }}
    group by period_month, currency_code
),

capitalised as (
    select paid_period_month as period_month, currency_code, sum(capitalised_amount) as capitalised_amount
    from (
        select distinct payout_line_key, paid_period_month, currency_code, capitalised_amount
        from {{ ref('mart_commission_expense_schedule') }}
    ) as lines
    group by paid_period_month, currency_code
),

amortised as (
    select amortisation_period_month as period_month, currency_code, sum(amortised_amount) as amortised_amount
    from {{ ref('mart_commission_expense_schedule') }}
    group by amortisation_period_month, currency_code
),

months as (
    select period_month, currency_code from payouts
    union
    select period_month, currency_code from amortised
),

combined as (
    select
        months.period_month,
        months.currency_code,
        coalesce(payouts.total_payout_amount, 0) as total_payout_amount,
        coalesce(capitalised.capitalised_amount, 0) as capitalised_amount,
        coalesce(amortised.amortised_amount, 0) as amortised_amount
    from months
    left join payouts on months.period_month = payouts.period_month and months.currency_code = payouts.currency_code
    left join capitalised
        on months.period_month = capitalised.period_month and months.currency_code = capitalised.currency_code
    left join amortised on months.period_month = amortised.period_month and months.currency_code = amortised.currency_code
),

bookings as (
    select
        cast({{ dbt.date_trunc('month', 'close_date') }} as date) as period_start_date,
        reporting_currency_code as currency_code,
        sum(amount_reporting) as bookings_amount
    from {{ ref('fct_deals') }}
    where was_won and not is_open and not is_archived
    group by 1, 2
),

running as (
    select
        combined.*,
        sum(capitalised_amount - amortised_amount) over (
            partition by currency_code order by period_month rows between unbounded preceding and current row
        ) as closing_asset_amount
    from combined
)

select
    {{ dbt.concat(['running.period_month', "'|'", 'running.currency_code']) }} as rollforward_key,
    running.period_month,
    cast({{ parse_date("running.period_month || '-01'") }} as date) as period_start_date,
    running.currency_code,
    cast(running.closing_asset_amount - running.capitalised_amount + running.amortised_amount as decimal(18, 2))
        as opening_asset_amount,
    cast(running.capitalised_amount as decimal(18, 2)) as capitalised_amount,
    cast(running.amortised_amount as decimal(18, 2)) as amortised_amount,
    cast(running.closing_asset_amount as decimal(18, 2)) as closing_asset_amount,
    cast(running.total_payout_amount - running.capitalised_amount as decimal(18, 2)) as expensed_immediately_amount,
    cast(running.amortised_amount + running.total_payout_amount - running.capitalised_amount as decimal(18, 2))
        as commission_expense_amount,
    cast(running.total_payout_amount as decimal(18, 2)) as total_payout_amount,
    cast(bookings.bookings_amount as decimal(18, 2)) as bookings_amount,
    case when bookings.bookings_amount > 0
        then {{ rounded('running.total_payout_amount / bookings.bookings_amount', 'fraction') }}
    end as commission_share_of_bookings
from running
left join bookings
    on cast({{ parse_date("running.period_month || '-01'") }} as date) = bookings.period_start_date
    and running.currency_code = bookings.currency_code
