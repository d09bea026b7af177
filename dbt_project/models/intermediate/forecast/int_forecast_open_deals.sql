{#-
  The open pipeline at each forecast date (int_forecast_dates): at a backtest date, the deals
  open at that month start as fct_pipeline_snapshots holds them (their stage then; amount and
  expected close date as captured, today's for reconstructed snapshots); at the current date,
  the deals open now (fct_deals) with their owner's current team and territory.
  Amounts as double for the simulation (the marts cast its results back to DECIMAL).
-#}
with dates as (
    select forecast_date, is_current_forecast from {{ ref('int_forecast_dates') }}
),

backtest as (
    select
        snapshots.snapshot_date as forecast_date,
        snapshots.deal_id,
        snapshots.pipeline_id,
        snapshots.pipeline_stage_key,
        snapshots.employee_id,
        snapshots.team_name,
        snapshots.territory_code,
        deals.created_date,
        snapshots.expected_close_date,
        cast(snapshots.amount_reporting as double) as amount_reporting,
        cast(snapshots.stage_probability as double) as stage_probability
    from {{ ref('fct_pipeline_snapshots') }} as snapshots
    inner join dates
        on snapshots.snapshot_date = dates.forecast_date
        and not dates.is_current_forecast
    inner join {{ ref('fct_deals') }} as deals on snapshots.deal_id = deals.deal_id
),

current_pipeline as (
    select
        dates.forecast_date,
        deals.deal_id,
        deals.pipeline_id,
        deals.pipeline_stage_key,
        deals.employee_id,
        reps.team_name,
        reps.territory_code,
        deals.created_date,
        deals.close_date as expected_close_date,
        cast(deals.amount_reporting as double) as amount_reporting,
        cast(deals.stage_probability as double) as stage_probability
    from {{ ref('fct_deals') }} as deals
    inner join dates
        on dates.is_current_forecast
        and deals.created_date < dates.forecast_date
    left join {{ ref('dim_reps') }} as reps on deals.rep_version_key = reps.rep_version_key
    where deals.is_open and not deals.is_archived
)

select * from backtest
union all
select * from current_pipeline
