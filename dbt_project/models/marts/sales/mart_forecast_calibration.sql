{#-
  How well calibrated is the bookings forecast? The backtest forecasts of mart_bookings_forecast
  (past month starts) against what was then booked (mart_sales_kpis), over the periods complete
  at the as-of date. One row per period grain, months ahead and group level: the share of
  outcomes inside P10..P90 (80 % for a calibrated forecast), the PIT histogram (the share of
  outcomes in each tenth of the forecast distribution, 10 % each when calibrated; an outcome equal
  to deciles counts at their middle), and the mean absolute error of P50 beside the
  stage-weighted forecast's (mart_forecast_accuracy, taken at the period start: team and company,
  months ahead 0) on the same outcomes.
-#}
with forecasts as (
    select * from {{ ref('int_bookings_forecast_simulated') }} where not is_current_forecast
),

actuals as (
    select period_grain, period_start_date, group_type, group_key, bookings_amount
    from {{ ref('mart_sales_kpis') }}
),

stage_weighted as (
    select period_grain, period_start_date, group_type, group_key, forecast_amount
    from {{ ref('mart_forecast_accuracy') }}
),

outcomes as (
    {#- the stage-weighted forecast is taken at the period start: compared where this forecast is too -#}
    select
        forecasts.*,
        cast(coalesce(actuals.bookings_amount, 0) as double) as actual_amount,
        case when forecasts.months_ahead = 0 and forecasts.forecast_date = forecasts.period_start_date
            then cast(stage_weighted.forecast_amount as double) end as stage_weighted_amount
    from forecasts
    left join actuals using (period_grain, period_start_date, group_type, group_key)
    left join stage_weighted using (period_grain, period_start_date, group_type, group_key)
    where {{ is_complete_period(period_end_date('forecasts.period_grain', 'forecasts.period_start_date'), as_of_date()) }}
),

ranked as (
    select
        *,
        {%- set deciles = ['p10', 'p20', 'p30', 'p40', 'p50', 'p60', 'p70', 'p80', 'p90'] %}
        {% for decile in deciles %}case when {{ decile }} < actual_amount then 1 else 0 end{% if not loop.last %} + {% endif %}{% endfor %}
            as deciles_below,
        {% for decile in deciles %}case when {{ decile }} = actual_amount then 1 else 0 end{% if not loop.last %} + {% endif %}{% endfor %}
            as deciles_equal
    from outcomes
),

binned as (
    select
        *,
        least(9, deciles_below + cast(floor(deciles_equal / 2.0) as integer)) + 1 as pit_bin,
        actual_amount >= p10 and actual_amount <= p90 as is_inside_p10_p90
    from ranked
)

select
    {{ dbt.concat(['period_grain', "'|'", dbt.cast('months_ahead', dbt.type_string()), "'|'", 'group_type']) }}
        as calibration_key,
    period_grain,
    months_ahead,
    group_type,
    count(distinct forecast_date) as forecast_dates,
    min(forecast_date) as first_forecast_date,
    max(forecast_date) as last_forecast_date,
    count(*) as outcomes,
    {{ rounded('avg(case when is_inside_p10_p90 then 1.0 else 0.0 end)', 'fraction') }} as share_inside_p10_p90,
    {%- for bin in range(1, 11) %}
    {{ rounded('avg(case when pit_bin = ' ~ bin ~ ' then 1.0 else 0.0 end)', 'fraction') }} as pit_decile_{{ '%02d' % bin }}_share,
    {%- endfor %}
    '{{ var("reporting_currency") }}' as currency_code,
    {{ rounded('avg(abs(p50 - actual_amount))', 'money') }} as p50_mean_absolute_error,
    count(stage_weighted_amount) as compared_outcomes,
    {{ rounded('avg(case when stage_weighted_amount is not null then abs(p50 - actual_amount) end)', 'money') }}
        as p50_mean_absolute_error_compared,
    {{ rounded('avg(abs(stage_weighted_amount - actual_amount))', 'money') }} as stage_weighted_mean_absolute_error
from binned
group by period_grain, months_ahead, group_type
