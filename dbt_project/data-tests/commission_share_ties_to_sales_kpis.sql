{{ config(meta={'dagster': {'ref': {'name': 'mart_commission_expense_rollforward'}}}) }}
-- The bookings behind commission as a share of bookings (mart_commission_expense_rollforward,
-- summed from fct_deals so that a failed activity or lead test does not hold finance back) are
-- the company's bookings of mart_sales_kpis, for every month the KPI mart shows.
select
    rollforward.period_month,
    rollforward.bookings_amount as rollforward_bookings,
    kpis.bookings_amount as kpi_bookings
from {{ ref('mart_commission_expense_rollforward') }} as rollforward
inner join {{ ref('mart_sales_kpis') }} as kpis
    on kpis.period_grain = 'month'
    and kpis.group_type = 'company'
    and kpis.period_start_date = rollforward.period_start_date
    and kpis.currency_code = rollforward.currency_code
where coalesce(rollforward.bookings_amount, 0) <> kpis.bookings_amount
