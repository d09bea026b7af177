"""Scales and the time frame of the synthetic company."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

#: Nominal end of history: the default as-of date.
HISTORY_END = dt.date(2025, 12, 31)
#: The simulation runs on past the nominal end so that later as-of worlds (deltas) exist.
SIMULATION_END = dt.date(2026, 3, 31)


class GenerationError(ValueError):
    """Bad arguments to the generator (scale, seed, as-of date, output folder)."""


@dataclass(frozen=True)
class ScaleConfig:
    """Size of the company: reps, months of history and activity rates."""

    name: str
    reps: int
    months: int
    reps_per_team: int
    territories: int
    leads_per_rep_month: float
    calls_per_rep_day: float
    emails_per_rep_day: float
    meetings_per_rep_day: float
    part_rows: int = 1_000_000

    @property
    def start(self) -> dt.date:
        """First day of history."""
        year, month = HISTORY_END.year, HISTORY_END.month + 1 - self.months
        while month <= 0:
            month += 12
            year -= 1
        return dt.date(year, month, 1)


SCALES: dict[str, ScaleConfig] = {
    "small": ScaleConfig(
        "small",
        reps=20,
        months=12,
        reps_per_team=5,
        territories=4,
        leads_per_rep_month=18,
        calls_per_rep_day=2.6,
        emails_per_rep_day=2.0,
        meetings_per_rep_day=0.5,
    ),
    "medium": ScaleConfig(
        "medium",
        reps=300,
        months=24,
        reps_per_team=7,
        territories=8,
        leads_per_rep_month=16,
        calls_per_rep_day=2.7,
        emails_per_rep_day=2.1,
        meetings_per_rep_day=0.5,
    ),
    "large": ScaleConfig(
        "large",
        reps=3000,
        months=36,
        reps_per_team=8,
        territories=8,
        leads_per_rep_month=20,
        calls_per_rep_day=2.0,
        emails_per_rep_day=1.6,
        meetings_per_rep_day=0.4,
    ),
}

TERRITORIES: list[tuple[str, str, str, str]] = [
    # code, region (division), office, deal currency
    ("NA-EAST", "North America", "New York", "USD"),
    ("EMEA-UKI", "EMEA", "London", "GBP"),
    ("NA-WEST", "North America", "San Francisco", "USD"),
    ("EMEA-DACH", "EMEA", "Munich", "EUR"),
    ("NA-CENTRAL", "North America", "Chicago", "USD"),
    ("APAC-ANZ", "APAC", "Sydney", "USD"),
    ("EMEA-FRANCE", "EMEA", "Paris", "EUR"),
    ("APAC-JAPAN", "APAC", "Tokyo", "USD"),
]


def epoch_ms(day: dt.date, hour: int = 0) -> int:
    """Milliseconds since 1970-01-01 UTC at ``hour`` o'clock of ``day``."""
    return int(dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC).timestamp() * 1000)


DAY_MS = 86_400_000
