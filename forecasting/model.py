"""The forecast for a set of forecast dates, from Arrow tables in and to an Arrow table out: what
the dbt Python model ``int_bookings_forecast_simulated`` runs (docs/forecasting.md), and what a
notebook or a later commission forecast can call with tables of its own.

:func:`simulated_bookings` gives the raw simulations (per simulation, rep and horizon month, team
by team in chunks) for consumers that need more than the summary, such as pushing simulated
bookings through the commission plans.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from forecasting.calibration import UNASSIGNED, Deals, History, OpenDeals, Quotas, Team, build_teams
from forecasting.simulation import BookingsChunk, simulate
from forecasting.summary import DECILES, summarise

DEFAULT_SIMULATIONS = 10_000
DEFAULT_HORIZON_MONTHS = 3
DEFAULT_SEED = 35

#: Columns of the forecast rows (int_bookings_forecast_simulated).
DECILE_COLUMNS = [f"p{round(q * 100)}" for q in DECILES]


def _column(table: pa.Table, name: str, kind: str) -> np.ndarray:
    column = table.column(name)
    if kind == "key":
        return np.asarray(pc.fill_null(pc.cast(column, pa.string()), UNASSIGNED).to_pylist(), dtype=object)
    if kind == "date":
        return column.to_numpy(zero_copy_only=False).astype("datetime64[D]")
    if kind == "bool":
        return np.asarray(pc.fill_null(column, False).to_numpy(zero_copy_only=False), dtype=bool)
    if kind == "int":
        return np.asarray(pc.fill_null(column, 0).to_numpy(zero_copy_only=False), dtype=np.int64)
    return np.asarray(pc.fill_null(pc.cast(column, pa.float64()), 0.0).to_numpy(zero_copy_only=False), dtype=float)


#: Each input's fields: (column of its intermediate model, kind).
HISTORY_COLUMNS = {
    "snapshot_date": ("snapshot_date", "date"),
    "pipeline": ("pipeline_id", "key"),
    "stage": ("pipeline_stage_key", "key"),
    "age_days": ("deal_age_days", "int"),
    "expected_close_date": ("expected_close_date", "date"),
    "amount": ("amount_at_snapshot", "float"),
    "close_date": ("close_date", "date"),
    "was_won": ("was_won", "bool"),
    "final_amount": ("final_amount", "float"),
}
DEAL_COLUMNS = {
    "created_date": ("created_date", "date"),
    "creation_team": ("creation_team_name", "key"),
    "close_date": ("close_date", "date"),
    "was_won": ("was_won", "bool"),
    "amount": ("amount_reporting", "float"),
    "rep": ("employee_id", "key"),
    "team": ("team_name", "key"),
    "territory": ("territory_code", "key"),
}
OPEN_DEAL_COLUMNS = {
    "pipeline": ("pipeline_id", "key"),
    "stage": ("pipeline_stage_key", "key"),
    "rep": ("employee_id", "key"),
    "team": ("team_name", "key"),
    "territory": ("territory_code", "key"),
    "created_date": ("created_date", "date"),
    "expected_close_date": ("expected_close_date", "date"),
    "amount": ("amount_reporting", "float"),
    "stage_probability": ("stage_probability", "float"),
}
QUOTA_COLUMNS = {
    "rep": ("employee_id", "key"),
    "month": ("period_start_date", "date"),
    "amount": ("quota_amount", "float"),
    "team": ("team_name", "key"),
    "territory": ("territory_code", "key"),
}


def _from_arrow(kind, columns: dict[str, tuple[str, str]], table: pa.Table):
    return kind(**{field: _column(table, name, how) for field, (name, how) in columns.items()})


def history_from_arrow(table: pa.Table) -> History:
    """From int_forecast_history's columns."""
    return _from_arrow(History, HISTORY_COLUMNS, table)


def deals_from_arrow(table: pa.Table) -> Deals:
    """From int_forecast_deal_outcomes' columns."""
    return _from_arrow(Deals, DEAL_COLUMNS, table)


def open_deals_from_arrow(table: pa.Table) -> OpenDeals:
    """From int_forecast_open_deals' columns (one forecast date's rows)."""
    return _from_arrow(OpenDeals, OPEN_DEAL_COLUMNS, table)


def quotas_from_arrow(table: pa.Table) -> Quotas:
    """From int_forecast_rep_quotas' columns."""
    return _from_arrow(Quotas, QUOTA_COLUMNS, table)


def _open_on(open_deals: pa.Table, forecast_date: dt.date) -> OpenDeals:
    return open_deals_from_arrow(open_deals.filter(pc.equal(open_deals.column("forecast_date"), forecast_date)))


def teams_at(
    forecast_date: dt.date,
    open_deals: pa.Table,
    history: History,
    deals: Deals,
    quotas: Quotas,
    horizon_months: int = DEFAULT_HORIZON_MONTHS,
) -> list[Team]:
    """The calibrated teams at one forecast date (``open_deals``: int_forecast_open_deals)."""
    return build_teams(forecast_date, horizon_months, history, _open_on(open_deals, forecast_date), deals, quotas)


def simulated_bookings(
    teams: list[Team], simulations: int = DEFAULT_SIMULATIONS, seed: int = DEFAULT_SEED, chunk_simulations=None
) -> Iterator[BookingsChunk]:
    """Simulated bookings per simulation, rep and horizon month (reporting currency), team by
    team in chunks of simulations: the same draws the forecast's summary uses."""
    return simulate([team.pipeline for team in teams], simulations, seed, chunk_simulations)


def forecast_table(
    forecast_dates: list[tuple[dt.date, bool]],
    open_deals: pa.Table,
    history: History,
    deals: Deals,
    quotas: Quotas,
    simulations: int = DEFAULT_SIMULATIONS,
    backtest_simulations: int = DEFAULT_SIMULATIONS,
    seed: int = DEFAULT_SEED,
    horizon_months: int = DEFAULT_HORIZON_MONTHS,
    chunk_simulations: int | None = None,
) -> pa.Table:
    """One row per forecast date, period and group: deciles, mean, quota and P(reaching it).
    ``forecast_dates``: (date, is the current forecast); the others are backtests and run
    ``backtest_simulations``."""
    columns: dict[str, list] = {
        name: []
        for name in (
            "forecast_date",
            "is_current_forecast",
            "simulations",
            "period_grain",
            "period_start_date",
            "months_ahead",
            "group_type",
            "group_key",
            *DECILE_COLUMNS,
            "mean_amount",
            "quota_amount",
            "probability_reaching_quota",
        )
    }
    for forecast_date, is_current in forecast_dates:
        runs = simulations if is_current else backtest_simulations
        teams = teams_at(forecast_date, open_deals, history, deals, quotas, horizon_months)
        rows = summarise(forecast_date, horizon_months, teams, deals, quotas, runs, seed, chunk_simulations)
        for group_type, group_key, period, (deciles, mean, reach, quota) in zip(
            rows["group_type"], rows["group_key"], rows["period"], rows["stats"], strict=True
        ):
            columns["forecast_date"].append(forecast_date)
            columns["is_current_forecast"].append(is_current)
            columns["simulations"].append(runs)
            columns["period_grain"].append(period.grain)
            columns["period_start_date"].append(period.start.astype(dt.date))
            columns["months_ahead"].append(period.months_ahead)
            columns["group_type"].append(group_type)
            columns["group_key"].append(group_key)
            for name, value in zip(DECILE_COLUMNS, deciles.tolist(), strict=True):
                columns[name].append(value)
            columns["mean_amount"].append(float(mean))
            columns["quota_amount"].append(float(quota) if quota > 0 else None)
            columns["probability_reaching_quota"].append(None if np.isnan(reach) else float(reach))
    types = {
        "forecast_date": pa.date32(),
        "is_current_forecast": pa.bool_(),
        "simulations": pa.int64(),
        "period_grain": pa.string(),
        "period_start_date": pa.date32(),
        "months_ahead": pa.int64(),
        "group_type": pa.string(),
        "group_key": pa.string(),
    }
    return pa.table({name: pa.array(values, type=types.get(name, pa.float64())) for name, values in columns.items()})
