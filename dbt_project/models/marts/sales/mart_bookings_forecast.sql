{#-
  The Monte Carlo bookings forecast (docs/forecasting.md): per forecast date, period (each of the
  var('forecast_horizon_months') months from the forecast date's month, and each calendar quarter
  whose remaining months lie in them) and group (rep, team, territory, company), the P10, P50 and
  P90 of bookings over the simulations, their mean, the group's quota and the share of simulations
  reaching it. A period's bookings include those already won in it before the forecast date. The
  current forecast (is_current_forecast) is taken the day after the as-of date; the others are the
  backtest forecasts at past month starts that mart_forecast_calibration scores.
-#}
select
    {{ dbt.concat([dbt.cast('forecast_date', dbt.type_string()), "'|'", 'period_grain', "'|'",
                   dbt.cast('period_start_date', dbt.type_string()), "'|'", 'group_type', "'|'", 'group_key']) }}
        as forecast_key,
    forecast_date,
    is_current_forecast,
    simulations,
    period_grain,
    period_start_date,
    {{ period_end_date('period_grain', 'period_start_date') }} as period_end_date,
    months_ahead,
    group_type,
    group_key,
    '{{ var("reporting_currency") }}' as currency_code,
    {{ rounded('p10', 'money') }} as p10_amount,
    {{ rounded('p50', 'money') }} as p50_amount,
    {{ rounded('p90', 'money') }} as p90_amount,
    {{ rounded('mean_amount', 'money') }} as mean_amount,
    {{ rounded('quota_amount', 'money') }} as quota_amount,
    {{ rounded('probability_reaching_quota', 'fraction') }} as probability_reaching_quota
from {{ ref('int_bookings_forecast_simulated') }}
