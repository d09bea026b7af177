{#-
  Forecast accuracy per period (month, quarter) and group (team, company). The forecast is taken
  at the period start from fct_pipeline_snapshots: the stage-probability-weighted amount of open
  deals expected to close in the period (booked-to-date is zero at the start). The actual is the
  period's bookings (mart_sales_kpis). accuracy = 1 - |forecast - actual| / actual; ape is the
  absolute percentage error and mape its mean over the group's complete periods so far (the
  running period's actual is only to date, so its ape is shown but not averaged).
  forecast_is_reconstructed flags forecasts from backfilled snapshots (see fct_pipeline_snapshots).
  The periods of mart_sales_kpis: none after the as-of date. Rates to 4 decimals.
-#}
with grains as ({{ kpi_grains() }}),

snapshots as (
    select * from {{ ref('fct_pipeline_snapshots') }}
),

forecasts as (
    select
        grains.period_grain,
        snapshots.snapshot_date as period_start_date,
        group_types.group_type,
        case when group_types.group_type = 'team' then coalesce(snapshots.team_name, 'unassigned') else 'company' end
            as group_key,
        sum(snapshots.weighted_amount_reporting) as forecast_amount,
        max(case when snapshots.is_reconstructed then 1 else 0 end) = 1 as forecast_is_reconstructed
    from snapshots
    cross join grains
    cross join (select 'team' as group_type union all select 'company' as group_type) as group_types
    where {{ period_start('grains.period_grain', 'snapshots.snapshot_date') }} = snapshots.snapshot_date
        and {{ period_start('grains.period_grain', 'snapshots.expected_close_date') }} = snapshots.snapshot_date
    group by 1, 2, 3, 4
),

actuals as (
    select period_grain, period_start_date, is_complete_period, group_type, group_key, bookings_amount as actual_amount
    from {{ ref('mart_sales_kpis') }}
    where group_type in ('team', 'company')
),

compared as (
    select
        actuals.period_grain,
        actuals.period_start_date,
        actuals.is_complete_period,
        actuals.group_type,
        actuals.group_key,
        coalesce(forecasts.forecast_amount, 0) as forecast_amount,
        actuals.actual_amount,
        coalesce(forecasts.forecast_is_reconstructed, false) as forecast_is_reconstructed
    from actuals
    left join forecasts
        on actuals.period_grain = forecasts.period_grain
        and actuals.period_start_date = forecasts.period_start_date
        and actuals.group_type = forecasts.group_type
        and actuals.group_key = forecasts.group_key
    where actuals.period_start_date >= (select min(snapshot_date) from snapshots)
        and actuals.period_start_date <= (select max(snapshot_date) from snapshots)
),

errors as (
    select
        compared.*,
        abs(forecast_amount - actual_amount) as absolute_error,
        case when actual_amount > 0
            then {{ rounded('cast(abs(forecast_amount - actual_amount) as double) / cast(actual_amount as double)', 'fraction') }}
        end as ape
    from compared
)

select
    {{ dbt.concat(['period_grain', "'|'", dbt.cast('period_start_date', dbt.type_string()), "'|'", 'group_type',
                   "'|'", 'group_key']) }} as forecast_key,
    period_grain,
    period_start_date,
    is_complete_period,
    group_type,
    group_key,
    '{{ var("reporting_currency") }}' as currency_code,
    cast(forecast_amount as decimal(18, 2)) as forecast_amount,
    cast(actual_amount as decimal(18, 2)) as actual_amount,
    cast(absolute_error as decimal(18, 2)) as absolute_error,
    {{ rounded('1 - ape', 'fraction') }} as accuracy,
    ape,
    {{ rounded('avg(case when is_complete_period then ape end) over (
        partition by period_grain, group_type, group_key order by period_start_date
        rows between unbounded preceding and current row
    )', 'fraction') }} as mape_to_date,
    forecast_is_reconstructed
from errors
