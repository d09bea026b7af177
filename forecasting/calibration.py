"""Calibration of the forecast from the company's own history, as of a forecast date.

Everything here uses only what was known before the forecast date ``f``: deals resolved (closed
won or lost) before ``f``, the open pipeline at month starts before ``f``
(``fct_pipeline_snapshots``), and deals created before ``f``. The thresholds and fallbacks are
documented in docs/forecasting.md, "Calibration".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from forecasting.simulation import TeamPipeline

#: A calibration cell needs this many resolved observations; fewer and the next coarser level is used.
MIN_CELL_OBSERVATIONS = 30
#: Deal age buckets at the forecast date, in days since creation: [0, 30), [30, 90), [90, 180), 180+.
AGE_BUCKET_EDGES_DAYS = (30, 90, 180)
#: Months of history before the forecast date that the new-deal model reads.
NEW_DEAL_LOOKBACK_MONTHS = 12
#: The key of a deal without a rep, team or territory (the marts' group_key does the same).
UNASSIGNED = "unassigned"
#: The levels of the win-probability calibration, finest first.
WIN_LEVELS = ("pipeline_stage_age", "pipeline_stage", "pipeline", "global")


def month_start(day: np.datetime64) -> np.datetime64:
    return day.astype("datetime64[M]").astype("datetime64[D]")


def add_months(day: np.datetime64, months: int) -> np.datetime64:
    return (day.astype("datetime64[M]") + months).astype("datetime64[D]")


@dataclass(frozen=True)
class History:
    """Observations of the open pipeline at past month starts, with each deal's outcome
    (``fct_pipeline_snapshots`` joined to ``fct_deals``): numpy arrays of equal length."""

    snapshot_date: np.ndarray  # datetime64[D]
    pipeline: np.ndarray  # str
    stage: np.ndarray  # str (pipeline_stage_key)
    age_days: np.ndarray  # int
    expected_close_date: np.ndarray  # datetime64[D] (NaT when none)
    amount: np.ndarray  # float, at the snapshot
    close_date: np.ndarray  # datetime64[D], NaT while open
    was_won: np.ndarray  # bool
    final_amount: np.ndarray  # float


@dataclass(frozen=True)
class Deals:
    """Every deal, for the new-deal model and the bookings known before the forecast date."""

    created_date: np.ndarray  # datetime64[D]
    creation_team: np.ndarray  # str, the team of the owner when the deal was created
    close_date: np.ndarray  # datetime64[D], NaT while open
    was_won: np.ndarray  # bool
    amount: np.ndarray  # float, reporting currency
    rep: np.ndarray  # str, owner at the close
    team: np.ndarray  # str, owner's team at the close
    territory: np.ndarray  # str


@dataclass(frozen=True)
class OpenDeals:
    """The open pipeline at the forecast date."""

    pipeline: np.ndarray
    stage: np.ndarray
    rep: np.ndarray
    team: np.ndarray
    territory: np.ndarray
    created_date: np.ndarray  # datetime64[D]
    expected_close_date: np.ndarray  # datetime64[D], NaT when none
    amount: np.ndarray  # float
    stage_probability: np.ndarray  # float, the stage's configured probability (last fallback)


@dataclass(frozen=True)
class Quotas:
    """Quota-carrying rep months (prorated quota, as mart_sales_kpis sums it)."""

    rep: np.ndarray
    month: np.ndarray  # datetime64[D], first day
    amount: np.ndarray  # float
    team: np.ndarray
    territory: np.ndarray


def age_bucket(age_days: np.ndarray) -> np.ndarray:
    return np.searchsorted(np.asarray(AGE_BUCKET_EDGES_DAYS), age_days, side="right")


def _cell_means(
    train_keys: np.ndarray, train_values: np.ndarray, query_keys: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Mean of ``train_values`` per key and its number of observations, for each query key
    (0 observations and NaN where the key was never observed)."""
    keys, inverse = np.unique(np.concatenate([train_keys, query_keys]), return_inverse=True)
    train_index, query_index = inverse[: len(train_keys)], inverse[len(train_keys) :]
    counts = np.bincount(train_index, minlength=len(keys))
    sums = np.bincount(train_index, weights=train_values.astype(float), minlength=len(keys))
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / counts
    return means[query_index], counts[query_index]


def win_probabilities(
    history: History, deals: OpenDeals, forecast_date: np.datetime64
) -> tuple[np.ndarray, np.ndarray]:
    """Each open deal's probability of being won, from the snapshots before ``forecast_date`` of
    deals resolved before it, by pipeline, stage and age bucket; where a cell has fewer than
    MIN_CELL_OBSERVATIONS the next coarser level (pipeline and stage, pipeline, all pipelines),
    and with no history at all the stage's configured probability. Also the level used
    (index into WIN_LEVELS, 4 for the stage probability)."""
    age = (forecast_date - deals.created_date).astype(int)
    keys_open = _win_keys(deals.pipeline, deals.stage, age_bucket(age))
    keys_train = _win_keys(history.pipeline, history.stage, age_bucket(history.age_days))
    probability = deals.stage_probability.astype(float).copy()
    level = np.full(len(probability), len(WIN_LEVELS))
    for index in reversed(range(len(WIN_LEVELS))):
        means, counts = _cell_means(keys_train[index], history.was_won, keys_open[index])
        good = counts >= MIN_CELL_OBSERVATIONS
        probability[good], level[good] = means[good], index
    return np.clip(probability, 0.0, 1.0), level


def _win_keys(pipeline: np.ndarray, stage: np.ndarray, bucket: np.ndarray) -> list[np.ndarray]:
    pipeline, stage = pipeline.astype(str), stage.astype(str)
    return [
        np.char.add(np.char.add(stage, "|"), bucket.astype(str)),  # the stage key holds the pipeline
        stage,
        pipeline,
        np.full(len(pipeline), "all"),
    ]


def _pools(train_keys: np.ndarray, values: np.ndarray, query_keys: np.ndarray, default: float):
    """Sorted pools of ``values`` per key (a key with fewer than MIN_CELL_OBSERVATIONS uses the
    pool of every value; with no values at all, ``[default]``): the concatenated pool, and each
    query's offset and size in it."""
    pools, offsets = [np.sort(values) if len(values) else np.array([default])], {}
    offsets["*"] = (0, len(pools[0]))
    position = len(pools[0])
    for key in np.unique(train_keys):
        chosen = np.sort(values[train_keys == key])
        if len(chosen) >= MIN_CELL_OBSERVATIONS:
            offsets[key] = (position, len(chosen))
            pools.append(chosen)
            position += len(chosen)
    pairs = np.array([offsets.get(key, offsets["*"]) for key in np.unique(query_keys)]).reshape(-1, 2)
    _, inverse = np.unique(query_keys, return_inverse=True)
    return np.concatenate(pools), pairs[inverse, 0], pairs[inverse, 1]


def close_cdf(history: History, deals: OpenDeals, forecast_date: np.datetime64, horizon_months: int) -> np.ndarray:
    """P(a won deal closes by the end of horizon month h), per open deal and h: its expected
    close date plus a slippage drawn from the observed slippage of won deals (close date minus
    the expected close date at a snapshot), per pipeline (all pipelines below
    MIN_CELL_OBSERVATIONS), conditioned on closing on or after the forecast date (a deal already
    overdue slips at least as far). An overdue deal later than any observed slippage closes in
    the first month. A deal without an expected close date is taken as due at the forecast date."""
    won = history.was_won & ~np.isnat(history.expected_close_date)
    slip = (history.close_date[won] - history.expected_close_date[won]).astype(int)
    pool, offset, size = _pools(history.pipeline[won].astype(str), slip.astype(float), deals.pipeline.astype(str), 0.0)
    expected = np.where(np.isnat(deals.expected_close_date), forecast_date, deals.expected_close_date)
    first = month_start(forecast_date)
    boundaries = np.array([add_months(first, h + 1) for h in range(horizon_months)])
    overdue = (forecast_date - expected).astype(int)
    below_overdue = _share_below(pool, offset, size, overdue)
    cdf = np.empty((len(expected), horizon_months))
    for h, boundary in enumerate(boundaries):
        below = _share_below(pool, offset, size, (boundary - expected).astype(int))
        with np.errstate(invalid="ignore", divide="ignore"):
            cdf[:, h] = (below - below_overdue) / (1.0 - below_overdue)
    cdf[below_overdue >= 1.0] = 1.0
    return np.clip(np.maximum.accumulate(np.nan_to_num(cdf, nan=1.0), axis=1), 0.0, 1.0)


def _share_below(pool: np.ndarray, offset: np.ndarray, size: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The share of each deal's pool strictly below its value (pools are sorted slices)."""
    share = np.empty(len(values))
    for start, length in {(int(a), int(b)) for a, b in zip(offset, size, strict=True)}:
        mine = (offset == start) & (size == length)
        share[mine] = np.searchsorted(pool[start : start + length], values[mine], side="left") / length
    return share


def amount_ratio_pools(history: History, deals: OpenDeals) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pools of observed amount ratios (amount at close / amount at a snapshot, won deals), per
    pipeline, all pipelines below MIN_CELL_OBSERVATIONS; [1.0] without any."""
    usable = history.was_won & (history.amount > 0)
    ratio = history.final_amount[usable] / history.amount[usable]
    keep = np.isfinite(ratio)
    return _pools(history.pipeline[usable][keep].astype(str), ratio[keep], deals.pipeline.astype(str), 1.0)


@dataclass(frozen=True)
class NewDealModel:
    """Per team: deals created per month, P(won k months after the creation month) and the pool
    of won amounts; the level used ('team' or 'global')."""

    created_per_month: float
    won_by_lag: np.ndarray  # (H,)
    amount_pool: np.ndarray
    level: str


def new_deal_models(
    deals: Deals, teams: list[str], forecast_date: np.datetime64, horizon_months: int
) -> dict[str, NewDealModel]:
    """The new-deal model of each team from the NEW_DEAL_LOOKBACK_MONTHS months before the
    forecast date's month: creation rate, conversion by lag (cohorts complete at that lag only),
    won amounts. A team with fewer than MIN_CELL_OBSERVATIONS deals created in the window takes
    the company's conversion and amounts (its own creation rate)."""
    first = month_start(forecast_date)
    window_start = add_months(first, -NEW_DEAL_LOOKBACK_MONTHS)
    in_window = (deals.created_date >= window_start) & (deals.created_date < first)
    if not in_window.any():
        return {team: NewDealModel(0.0, np.zeros(horizon_months), np.array([]), "global") for team in teams}
    observed_from = max(window_start, month_start(deals.created_date[in_window].min()))
    months = max(1, int((first.astype("datetime64[M]") - observed_from.astype("datetime64[M]")).astype(int)))
    created_month = deals.created_date.astype("datetime64[M]")
    close_month = deals.close_date.astype("datetime64[M]")
    won_known = deals.was_won & (deals.close_date < forecast_date)
    lag = np.where(won_known, (close_month - created_month).astype(int), -1)
    first_month = first.astype("datetime64[M]")

    def model(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        by_lag = np.zeros(horizon_months)
        for k in range(horizon_months):
            cohort = mask & (created_month + k < first_month)
            if cohort.any():
                by_lag[k] = np.count_nonzero(cohort & (lag == k)) / np.count_nonzero(cohort)
        won_amounts = np.sort(deals.amount[mask & won_known])
        return by_lag, won_amounts

    company = model(in_window)
    result = {}
    team_of = deals.creation_team.astype(str)
    for team in teams:
        mine = in_window & (team_of == team)
        rate = np.count_nonzero(mine) / months
        if np.count_nonzero(mine) >= MIN_CELL_OBSERVATIONS:
            by_lag, pool = model(mine)
            if len(pool) < MIN_CELL_OBSERVATIONS:
                pool = company[1]
            result[team] = NewDealModel(rate, by_lag, pool, "team")
        else:
            result[team] = NewDealModel(rate, company[0], company[1], "global")
    return result


def new_deal_means(model: NewDealModel, forecast_date: np.datetime64, horizon_months: int) -> np.ndarray:
    """Expected new deals created and won in each horizon month: creation in month c (the first
    month only for its days from the forecast date on) won in month h >= c."""
    first = month_start(forecast_date)
    days = (add_months(first, 1) - first).astype(int)
    weights = np.ones(horizon_months)
    weights[0] = (add_months(first, 1) - forecast_date).astype(int) / days
    means = np.zeros(horizon_months)
    for h in range(horizon_months):
        means[h] = model.created_per_month * sum(weights[c] * model.won_by_lag[h - c] for c in range(h + 1))
    return means


@dataclass(frozen=True)
class Team:
    """A team's part of the forecast: its calibrated pipeline and each rep's territory."""

    pipeline: TeamPipeline
    rep_territory: np.ndarray


def build_teams(
    forecast_date: dt.date,
    horizon_months: int,
    history: History,
    open_deals: OpenDeals,
    deals: Deals,
    quotas: Quotas,
) -> list[Team]:
    """The calibrated pipeline of every team at ``forecast_date``, teams sorted by key. A team's
    reps: those owning its open deals, carrying quota in the first horizon month, or booked in
    the horizon's periods before the forecast date. New deals are shared equally among the
    team's quota-carrying reps (else among those owning its open deals)."""
    f = np.datetime64(forecast_date, "D")
    known = history.snapshot_date < f
    known &= ~np.isnat(history.close_date) & (history.close_date < f)
    past = History(*(np.asarray(getattr(history, name))[known] for name in History.__dataclass_fields__))
    probability, _ = win_probabilities(past, open_deals, f)
    cdf = close_cdf(past, open_deals, f, horizon_months)
    ratio_pool, ratio_offset, ratio_size = amount_ratio_pools(past, open_deals)

    first = month_start(f)
    quota_now = quotas.month == first
    booked = _booked_before(deals, f, horizon_months)
    reps, rep_team, rep_territory = _rep_directory(
        [
            (open_deals.rep, open_deals.team, open_deals.territory),
            (quotas.rep[quota_now], quotas.team[quota_now], quotas.territory[quota_now]),
            (deals.rep[booked], deals.team[booked], deals.territory[booked]),
        ]
    )
    team_keys = sorted(set(rep_team.tolist()))
    models = new_deal_models(deals, team_keys, f, horizon_months)
    quota_reps = set(quotas.rep[quota_now].tolist())
    deal_reps = set(open_deals.rep.tolist())
    team_of_rep = dict(zip(reps.tolist(), rep_team.tolist(), strict=True))
    deal_team = np.array([team_of_rep[rep] for rep in open_deals.rep.tolist()], dtype=object)
    teams = []
    for team in team_keys:
        mine = rep_team == team
        members = reps[mine]
        on_deals = deal_team == team
        rep_position = {rep: index for index, rep in enumerate(members)}
        deal_rep = np.array([rep_position[rep] for rep in open_deals.rep[on_deals]], dtype=np.int64)
        share = np.array([rep in quota_reps for rep in members], dtype=float)
        if share.sum() == 0:
            share = np.array([rep in deal_reps for rep in members], dtype=float)
        if share.sum() == 0:
            share = np.ones(len(members))
        model = models[team]
        means = np.outer(share / share.sum(), new_deal_means(model, f, horizon_months))
        teams.append(
            Team(
                TeamPipeline(
                    team_key=team,
                    reps=members,
                    deal_rep=deal_rep,
                    win_probability=probability[on_deals],
                    close_cdf=cdf[on_deals],
                    amount=open_deals.amount[on_deals].astype(float),
                    ratio_offset=ratio_offset[on_deals],
                    ratio_size=ratio_size[on_deals],
                    ratio_pool=ratio_pool,
                    new_deal_mean=means,
                    new_amount_pool=model.amount_pool.astype(float),
                ),
                rep_territory[mine],
            )
        )
    return teams


def _booked_before(deals: Deals, forecast_date: np.datetime64, horizon_months: int) -> np.ndarray:
    """Deals won before the forecast date inside the first horizon month's quarter (the bookings
    the quarter already holds)."""
    quarter = _quarter_start(month_start(forecast_date))
    return deals.was_won & (deals.close_date >= quarter) & (deals.close_date < forecast_date)


def _quarter_start(day: np.datetime64) -> np.datetime64:
    month = day.astype("datetime64[M]")
    return (month - (month.astype(int) % 3)).astype("datetime64[D]")


def _rep_directory(sources: list[tuple[np.ndarray, np.ndarray, np.ndarray]]):
    """Each rep once with its team and territory, the first source that names the rep winning."""
    seen: dict[str, tuple[str, str]] = {}
    for reps, teams, territories in sources:
        for rep, team, territory in zip(reps.tolist(), teams.tolist(), territories.tolist(), strict=True):
            seen.setdefault(rep, (team, territory))
    reps = np.array(sorted(seen), dtype=object)
    return (
        reps,
        np.array([seen[rep][0] for rep in reps], dtype=object),
        np.array([seen[rep][1] for rep in reps], dtype=object),
    )
