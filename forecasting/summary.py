"""The forecast's figures per group and period, from the simulated bookings.

Levels: rep, team, territory (of the rep at the forecast date) and company. Periods: each horizon
month, and each calendar quarter whose remaining months all lie in the horizon; a period holds
the bookings already won in it before the forecast date plus the simulated ones. Per group and
period: the deciles P10 .. P90 (P50 the median), the mean, the quota of the group's reps and the
share of simulations reaching it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from forecasting.calibration import Deals, Quotas, Team, _booked_before, _quarter_start, add_months, month_start
from forecasting.simulation import simulate_team

#: The quantiles kept per group and period: the deciles, so that the calibration can tell in
#: which tenth of the forecast distribution an actual fell (the PIT histogram).
DECILES = tuple(round(0.1 * k, 1) for k in range(1, 10))


@dataclass(frozen=True)
class Period:
    grain: str  # month | quarter
    start: np.datetime64
    months_ahead: int  # first horizon month of the period (0: the forecast date's month)
    horizon_months: tuple[int, ...]  # the horizon months it sums


def periods(forecast_date: dt.date, horizon_months: int) -> list[Period]:
    first = month_start(np.datetime64(forecast_date, "D"))
    found = [Period("month", add_months(first, h), h, (h,)) for h in range(horizon_months)]
    quarters: dict[np.datetime64, list[int]] = {}
    for h in range(horizon_months):
        quarters.setdefault(_quarter_start(add_months(first, h)), []).append(h)
    for start, months in quarters.items():
        if add_months(start, 3) <= add_months(first, horizon_months):
            found.append(Period("quarter", start, months[0], tuple(months)))
    return found


def _period_matrix(chosen: list[Period], horizon_months: int) -> np.ndarray:
    """(H, P): 1 where horizon month h is part of period p."""
    matrix = np.zeros((horizon_months, len(chosen)))
    for index, period in enumerate(chosen):
        matrix[list(period.horizon_months), index] = 1.0
    return matrix


def _known_per_rep(values, reps, dates, chosen: list[Period], rep_index: dict[str, int]) -> np.ndarray:
    """(R, P) sums of ``values`` by rep and by the period holding ``dates``."""
    out = np.zeros((len(rep_index), len(chosen)))
    for p, period in enumerate(chosen):
        end = add_months(period.start, 1 if period.grain == "month" else 3)
        inside = (dates >= period.start) & (dates < end)
        for rep, value in zip(reps[inside].tolist(), values[inside].tolist(), strict=True):
            if rep in rep_index:
                out[rep_index[rep], p] += value
    return out


def _stats(values: np.ndarray, quota: np.ndarray) -> dict[str, np.ndarray]:
    """values (N, G, P), quota (G, P): deciles (9, G, P), mean and P(value >= quota)."""
    with np.errstate(invalid="ignore"):
        reach = np.where(quota > 0, (values >= quota[None]).mean(axis=0), np.nan)
    return {
        "deciles": np.quantile(values, DECILES, axis=0),
        "mean": values.mean(axis=0),
        "reach": reach,
    }


def summarise(
    forecast_date: dt.date,
    horizon_months: int,
    teams: list[Team],
    deals: Deals,
    quotas: Quotas,
    simulations: int,
    seed: int,
    chunk_simulations: int | None = None,
) -> dict[str, list]:
    """Columns of the forecast rows for one forecast date (one row per level, group and period)."""
    chosen = periods(forecast_date, horizon_months)
    to_periods = _period_matrix(chosen, horizon_months)
    f = np.datetime64(forecast_date, "D")
    all_reps = np.concatenate([team.pipeline.reps for team in teams]) if teams else np.array([], dtype=object)
    rep_index = {rep: index for index, rep in enumerate(all_reps.tolist())}
    booked = _booked_before(deals, f, horizon_months)
    known = _known_per_rep(deals.amount[booked], deals.rep[booked], deals.close_date[booked], chosen, rep_index)
    quota = _known_per_rep(quotas.amount, quotas.rep, quotas.month, chosen, rep_index)
    territories = sorted({str(t) for team in teams for t in team.rep_territory.tolist()})
    territory_index = {territory: index for index, territory in enumerate(territories)}
    territory_values = np.zeros((simulations, len(territories), len(chosen)))
    territory_quota = np.zeros((len(territories), len(chosen)))
    rows: dict[str, list] = {name: [] for name in ("group_type", "group_key", "period", "stats")}

    def emit(group_type: str, keys: list[str], stats: dict[str, np.ndarray]) -> None:
        for g, key in enumerate(keys):
            for p in range(len(chosen)):
                rows["group_type"].append(group_type)
                rows["group_key"].append(key)
                rows["period"].append(chosen[p])
                rows["stats"].append(
                    (stats["deciles"][:, g, p], stats["mean"][g, p], stats["reach"][g, p], stats["quota"][g, p])
                )

    for index, team in enumerate(teams):
        reps = team.pipeline.reps
        positions = np.array([rep_index[rep] for rep in reps.tolist()], dtype=np.int64)
        values = np.empty((simulations, len(reps), len(chosen)))
        for chunk in simulate_team(team.pipeline, index, simulations, seed, chunk_simulations):
            values[chunk.first_simulation : chunk.first_simulation + len(chunk.bookings)] = chunk.bookings @ to_periods
        values += known[positions][None]
        rep_quota = quota[positions]
        emit("rep", reps.tolist(), {**_stats(values, rep_quota), "quota": rep_quota})
        team_values = values.sum(axis=1, keepdims=True)
        team_quota = rep_quota.sum(axis=0, keepdims=True)
        emit("team", [team.pipeline.team_key], {**_stats(team_values, team_quota), "quota": team_quota})
        for r, territory in enumerate(team.rep_territory.tolist()):
            t = territory_index[str(territory)]
            territory_values[:, t] += values[:, r]
            territory_quota[t] += rep_quota[r]
    emit("territory", territories, {**_stats(territory_values, territory_quota), "quota": territory_quota})
    company_values = territory_values.sum(axis=1, keepdims=True)
    company_quota = territory_quota.sum(axis=0, keepdims=True)
    emit("company", ["company"], {**_stats(company_values, company_quota), "quota": company_quota})
    return rows
