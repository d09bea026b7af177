"""Simulated bookings per rep and horizon month, vectorised in numpy and chunked over simulations.

Inputs are per-deal parameters already calibrated (:mod:`forecasting.calibration`); nothing here
reads the warehouse. The open deals are simulated team by team (one team's deals at a time, so
memory holds one team's simulations, never the whole company's), and within a team in chunks of
simulations. Every random stream belongs to one team and one kind of draw and is consumed in
simulation order, so the result does not depend on the chunk size: a chunk of 7 simulations and
one of 10,000 give the same numbers for the same seed.

For each simulation ``s`` and open deal ``d`` of a team:

- won and closed inside horizon month ``h`` when ``p * cdf[h - 1] <= u < p * cdf[h]`` (one uniform
  ``u``; ``p`` the win probability, ``cdf[h]`` = ``close_cdf[d, h]``, P(closes by the end of horizon
  month h | won)); won later, or lost, when ``u >= p * cdf[H - 1]``;
- its amount: ``amount[d]`` times a ratio drawn from the deal's pool of observed ratios
  (``ratio_pools[ratio_offset[d] : ratio_offset[d] + ratio_size[d]]``).

New deals: per rep and horizon month a Poisson count with mean ``new_deal_mean[r, h]`` (created
and won inside the horizon), each with an amount drawn from the team's pool of won amounts.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

#: Random numbers drawn at once in a chunk (simulations x open deals of a team): bounds memory
#: (about 8 bytes each, a few arrays at a time).
DEFAULT_CHUNK_ELEMENTS = 2_000_000

#: The kinds of draw, each its own random stream per team.
_WIN, _AMOUNT, _NEW_COUNT, _NEW_AMOUNT = range(4)


@dataclass(frozen=True)
class TeamPipeline:
    """One team's open deals and new-deal model at a forecast date, calibrated.

    ``reps`` are the team's reps (their keys); deals point at them by position (``deal_rep``).
    """

    team_key: str
    reps: np.ndarray  # (R,) rep keys (object)
    deal_rep: np.ndarray  # (D,) int position in reps
    win_probability: np.ndarray  # (D,) float
    close_cdf: np.ndarray  # (D, H) float, non-decreasing along H, <= 1
    amount: np.ndarray  # (D,) float, reporting currency
    ratio_offset: np.ndarray  # (D,) int
    ratio_size: np.ndarray  # (D,) int >= 1
    ratio_pool: np.ndarray  # (K,) float, amount ratios (1.0 where nothing was observed)
    new_deal_mean: np.ndarray  # (R, H) float, expected new deals won per rep and month
    new_amount_pool: np.ndarray  # (M,) float, amounts of won new deals (may be empty if the mean is 0)

    @property
    def horizon_months(self) -> int:
        return self.new_deal_mean.shape[1]


@dataclass(frozen=True)
class BookingsChunk:
    """Simulated bookings of one team's reps: ``bookings[s, r, h]`` for the simulations
    ``first_simulation`` .. ``first_simulation + len(bookings) - 1``, reporting currency."""

    team_key: str
    reps: np.ndarray
    first_simulation: int
    bookings: np.ndarray  # (S, R, H) float64


def _streams(seed: int, team_index: int) -> list[np.random.Generator]:
    """The team's random streams, one per kind of draw, from the run's seed."""
    return [
        np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(team_index, kind))))
        for kind in range(4)
    ]


def _chunk_sizes(simulations: int, deals: int, chunk_simulations: int | None) -> Iterator[tuple[int, int]]:
    size = chunk_simulations or max(1, DEFAULT_CHUNK_ELEMENTS // max(deals, 1))
    for start in range(0, simulations, size):
        yield start, min(size, simulations - start)


def _open_deal_bookings(team: TeamPipeline, size: int, streams: list[np.random.Generator]) -> np.ndarray:
    reps, horizon = len(team.reps), team.horizon_months
    out = np.zeros(size * reps * horizon)
    deals = len(team.amount)
    if deals == 0:
        return out.reshape(size, reps, horizon)
    # One uniform per simulation and deal decides both: won and closing in horizon month h when
    # p x cdf[h-1] <= u < p x cdf[h] (the close month is independent of winning, given a win),
    # so only the deals won inside the horizon are looked at again.
    thresholds = (team.win_probability[:, None] * team.close_cdf).astype(np.float32)
    uniform = streams[_WIN].random((size, deals), dtype=np.float32)
    sim, deal = np.nonzero(uniform < thresholds[:, -1])
    drawn = uniform[sim, deal]
    month = np.zeros(len(deal), dtype=np.int64)
    for h in range(horizon - 1):
        month += drawn >= thresholds[deal, h]
    pick = (streams[_AMOUNT].random(len(deal)) * team.ratio_size[deal]).astype(np.int64)
    amount = team.amount[deal] * team.ratio_pool[team.ratio_offset[deal] + pick]
    key = (sim * reps + team.deal_rep[deal]) * horizon + month
    out += np.bincount(key, weights=amount, minlength=out.size)
    return out.reshape(size, reps, horizon)


def _new_deal_bookings(team: TeamPipeline, size: int, streams: list[np.random.Generator]) -> np.ndarray:
    reps, horizon = len(team.reps), team.horizon_months
    counts = streams[_NEW_COUNT].poisson(team.new_deal_mean, size=(size, reps, horizon)).ravel()
    total = int(counts.sum())
    out = np.zeros(counts.size)
    if total == 0 or len(team.new_amount_pool) == 0:
        return out.reshape(size, reps, horizon)
    pick = (streams[_NEW_AMOUNT].random(total) * len(team.new_amount_pool)).astype(np.int64)
    cell = np.repeat(np.arange(counts.size), counts)
    out += np.bincount(cell, weights=team.new_amount_pool[pick], minlength=counts.size)
    return out.reshape(size, reps, horizon)


def simulate_team(
    team: TeamPipeline, team_index: int, simulations: int, seed: int, chunk_simulations: int | None = None
) -> Iterator[BookingsChunk]:
    """The team's simulated bookings per rep and horizon month, in chunks of simulations (the
    chunk size changes memory, never the numbers)."""
    streams = _streams(seed, team_index)
    for start, size in _chunk_sizes(simulations, len(team.amount), chunk_simulations):
        bookings = _open_deal_bookings(team, size, streams) + _new_deal_bookings(team, size, streams)
        yield BookingsChunk(team.team_key, team.reps, start, bookings)


def simulate(
    teams: list[TeamPipeline], simulations: int, seed: int, chunk_simulations: int | None = None
) -> Iterator[BookingsChunk]:
    """Every team's simulated bookings per simulation, rep and horizon month, team after team and
    chunk after chunk (what a consumer such as a commission engine would read, bounded in memory).
    ``teams`` in a fixed order (their position keys their random streams)."""
    for index, team in enumerate(teams):
        yield from simulate_team(team, index, simulations, seed, chunk_simulations)
