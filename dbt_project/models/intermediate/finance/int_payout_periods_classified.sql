{{ config(materialized='view') }}
{#-
  One row per commission period (month): open, closed or history, and the current closed version.
  A period is closed when its latest ledger event is a close; a reopen makes it open again (its
  earlier versions stay in the ledger). A period before the go-live month (var
  commission_go_live_month, macros/finance.sql) that was never closed is history: computed and
  shown, never closed or paid. first_open_period_month is where adjustments to closed periods are
  posted: the earliest open period (never before the go-live month).
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

go_live as (
    select {{ commission_go_live_month() }} as go_live_month
),

classified as (
    select
        periods.period_month,
        case
            when latest.action = 'close' then 'closed'
            when periods.period_month < go_live.go_live_month then 'history'
            else 'open'
        end as period_status,
        case when latest.action = 'close' then latest.ledger_version end as closed_version,
        case when latest.action = 'close' then latest.acted_at end as closed_at
    from periods
    cross join go_live
    left join latest on periods.period_month = latest.period_month
),

first_open as (
    select coalesce(
        min(case when classified.period_status = 'open' then classified.period_month end),
        greatest(
            {{ month_label(dbt.dateadd('month', 1, "cast(max(classified.period_month) || '-01' as date)")) }},
            max(go_live.go_live_month)
        )
    ) as first_open_period_month
    from classified
    cross join go_live
)

select
    classified.period_month,
    cast({{ parse_date("classified.period_month || '-01'") }} as date) as period_start_date,
    classified.period_status,
    classified.closed_version,
    classified.closed_at,
    first_open.first_open_period_month,
    go_live.go_live_month
from classified
cross join first_open
cross join go_live
