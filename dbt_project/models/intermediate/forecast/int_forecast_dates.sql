{#-
  The dates the bookings forecast is taken at (docs/forecasting.md): the current forecast at the
  start of the day after the as-of date (everything up to the as-of date is known), and the
  backtest forecasts at the month starts of fct_pipeline_snapshots within var('forecast_backtest_months')
  months before it.
-#}
with current_forecast as (
    select cast({{ dbt.dateadd('day', 1, as_of_date()) }} as date) as forecast_date
),

backtests as (
    select distinct snapshots.snapshot_date as forecast_date
    from {{ ref('fct_pipeline_snapshots') }} as snapshots
    cross join current_forecast
    where snapshots.snapshot_date < current_forecast.forecast_date
        and snapshots.snapshot_date >= {{ dbt.dateadd('month', -1 * var('forecast_backtest_months'), 'current_forecast.forecast_date') }}
)

select forecast_date, true as is_current_forecast from current_forecast
union all
select forecast_date, false as is_current_forecast from backtests
