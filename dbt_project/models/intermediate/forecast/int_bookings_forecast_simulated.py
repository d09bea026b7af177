"""The Monte Carlo bookings forecast (docs/forecasting.md): a dbt Python model, run by
dbt-duckdb in dbt's own process. Reads its inputs as Arrow, simulates with numpy
(forecasting/), and returns an Arrow table: one row per forecast date, period and group with the
deciles, the mean, the quota and the probability of reaching it. mart_bookings_forecast and
mart_forecast_calibration are its SQL marts (with contracts)."""

import datetime as dt

from forecasting.model import (
    deals_from_arrow,
    forecast_table,
    history_from_arrow,
    quotas_from_arrow,
)


def model(dbt, session):
    dbt.config(materialized="table")
    dates = dbt.ref("int_forecast_dates").to_arrow_table().to_pylist()
    open_deals = dbt.ref("int_forecast_open_deals").to_arrow_table()
    history = history_from_arrow(dbt.ref("int_forecast_history").to_arrow_table())
    deals = deals_from_arrow(dbt.ref("int_forecast_deal_outcomes").to_arrow_table())
    quotas = quotas_from_arrow(dbt.ref("int_forecast_rep_quotas").to_arrow_table())
    forecast_dates = sorted(
        (row["forecast_date"], bool(row["is_current_forecast"]))
        for row in dates
        if isinstance(row["forecast_date"], dt.date)
    )
    return forecast_table(
        forecast_dates,
        open_deals,
        history,
        deals,
        quotas,
        simulations=int(dbt.config.get("simulations")),
        backtest_simulations=int(dbt.config.get("backtest_simulations")),
        seed=int(dbt.config.get("seed")),
        horizon_months=int(dbt.config.get("horizon_months")),
    )
