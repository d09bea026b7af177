{{ config(meta={'dagster': {'ref': {'name': 'mart_sales_kpis'}}}) }}
-- Bookings and won deals tie: every group level sums to the company row, and the company
-- equals the won deals of fct_deals, for every period the mart shows (none starts after the
-- as-of date: a deal won with a close date in a later quarter is in fct_deals only).
with levels as (
    select period_grain, period_start_date, group_type, sum(bookings_amount) as bookings, sum(won_deals) as won
    from {{ ref('mart_sales_kpis') }}
    group by 1, 2, 3
),

company as (
    select period_grain, period_start_date, bookings, won from levels where group_type = 'company'
),

deals as (
    select
        sum(amount_reporting) as bookings,
        count(*) as won
    from {{ ref('fct_deals') }}
    where was_won and not is_archived and close_date is not null
        and {{ period_start("'quarter'", 'close_date') }} <= {{ as_of_date() }}
),

company_total as (
    select sum(bookings) as bookings, sum(won) as won from company where period_grain = 'quarter'
)

select levels.period_grain, levels.period_start_date, levels.group_type, levels.bookings, company.bookings as company_bookings
from levels
inner join company using (period_grain, period_start_date)
where levels.bookings != company.bookings or levels.won != company.won
union all
select 'all', null, 'fct_deals', deals.bookings, company_total.bookings
from deals cross join company_total
where deals.bookings != company_total.bookings or deals.won != company_total.won
