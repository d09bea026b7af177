{{ config(materialized='view') }}
{#-
  One row per commission period (month): open or closed, and the current closed version. A
  period is closed when its latest ledger event is a close; a reopen makes it open again (its
  earlier versions stay in the ledger). first_open_period_month is where adjustments to closed
  periods are posted: the earliest period that is not closed.
-#}
with periods as (
    select period_month from {{ ref('int_plan_segments_dated') }}
    union
    select period_month from {{ ref('int_payout_lines_computed') }}
    union
    select period_month from {{ source('ledger', 'period_events') }}
),

events as (
    select
        period_month,
        ledger_version,
        action,
        acted_at,
        row_number() over (partition by period_month order by acted_at desc, ledger_version desc) as recency
    from {{ source('ledger', 'period_events') }}
),

latest as (
    select period_month, ledger_version, action, acted_at from events where recency = 1
),

classified as (
    select
        periods.period_month,
        case when latest.action = 'close' then 'closed' else 'open' end as period_status,
        case when latest.action = 'close' then latest.ledger_version end as closed_version,
        case when latest.action = 'close' then latest.acted_at end as closed_at
    from periods
    left join latest on periods.period_month = latest.period_month
),

first_open as (
    select coalesce(
        min(case when period_status = 'open' then period_month end),
        {{ month_label(dbt.dateadd('month', 1, "cast(max(period_month) || '-01' as date)")) }}
    ) as first_open_period_month
    from classified
)

select
    classified.period_month,
    cast({{ parse_date("classified.period_month || '-01'") }} as date) as period_start_date,
    classified.period_status,
    classified.closed_version,
    classified.closed_at,
    first_open.first_open_period_month
from classified
cross join first_open
