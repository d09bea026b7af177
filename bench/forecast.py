"""The forecast's own benchmark stage: 10,000 simulations over a synthetic open pipeline.

`spm bench` runs it after the pipeline runs (its stage "forecast"), sized by the scale: about
100 k open deals for `large`, as the large company holds. The open deals, their history and the
quotas are synthesised directly as Arrow tables (nothing is generated or loaded), and the whole
forecast runs as the dbt model runs it: calibration, simulation team by team in chunks, summary.
``python -m bench.forecast --deals 100000`` runs it alone.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import time

import numpy as np
import pyarrow as pa

from bench.memory import PeakMemory, tree_rss_bytes
from forecasting.model import deals_from_arrow, forecast_table, history_from_arrow, quotas_from_arrow

#: Open deals per scale (the large company holds about 100 k open deals) and reps per team.
OPEN_DEALS = {"small": 1_000, "medium": 10_000, "large": 100_000}
REPS_PER_TEAM = 8
FORECAST_DATE = dt.date(2026, 1, 1)


def synthetic_inputs(open_deals: int, seed: int = 1) -> dict:
    """Open deals, a history of closed deals' snapshots and quotas: about 33 open deals per rep,
    two pipelines of four stages."""
    rng = np.random.default_rng(seed)
    reps = max(1, open_deals // 33)
    stage = rng.integers(0, 4, open_deals)
    rep = rng.integers(0, reps, open_deals)
    pipeline = np.where(rng.random(open_deals) < 0.8, "default", "renewals")
    f = np.datetime64(FORECAST_DATE, "D")

    def teams(rep_ids):
        return pa.array([f"team-{r // REPS_PER_TEAM:04d}" for r in rep_ids.tolist()])

    def keys(prefix, values):
        return pa.array([f"{prefix}{v:05d}" for v in values.tolist()])

    open_table = pa.table(
        {
            "forecast_date": pa.array([FORECAST_DATE] * open_deals, pa.date32()),
            "pipeline_id": pa.array(pipeline),
            "pipeline_stage_key": pa.array(np.char.add(pipeline.astype(str), np.char.add("|s", stage.astype(str)))),
            "employee_id": keys("e", rep),
            "team_name": teams(rep),
            "territory_code": pa.array([f"T{r % 8}" for r in rep.tolist()]),
            "created_date": pa.array(f - rng.integers(1, 300, open_deals)),
            "expected_close_date": pa.array(f + rng.integers(-20, 120, open_deals)),
            "amount_reporting": pa.array(np.round(rng.lognormal(9.5, 0.8, open_deals), 2)),
            "stage_probability": pa.array(0.2 + 0.2 * stage),
        }
    )
    closed = 3 * open_deals
    snapshot = f - 31 * rng.integers(1, 24, closed)
    expected = snapshot + rng.integers(0, 90, closed)
    closed_stage = rng.integers(0, 4, closed)
    closed_pipeline = np.where(rng.random(closed) < 0.8, "default", "renewals")
    history = pa.table(
        {
            "snapshot_date": pa.array(snapshot),
            "pipeline_id": pa.array(closed_pipeline),
            "pipeline_stage_key": pa.array(
                np.char.add(closed_pipeline.astype(str), np.char.add("|s", closed_stage.astype(str)))
            ),
            "deal_age_days": pa.array(rng.integers(0, 300, closed)),
            "expected_close_date": pa.array(expected),
            "amount_at_snapshot": pa.array(rng.lognormal(9.5, 0.8, closed)),
            "close_date": pa.array(np.minimum(expected + rng.integers(-10, 60, closed), f - 1)),
            "was_won": pa.array(rng.random(closed) < 0.2 + 0.15 * closed_stage),
            "final_amount": pa.array(rng.lognormal(9.5, 0.8, closed)),
        }
    )
    created = f - rng.integers(1, 365, closed)
    closer = rng.integers(0, reps, closed)
    deals = pa.table(
        {
            "created_date": pa.array(created),
            "creation_team_name": teams(closer),
            "close_date": pa.array(np.minimum(created + rng.integers(10, 120, closed), f - 1)),
            "was_won": pa.array(rng.random(closed) < 0.3),
            "amount_reporting": pa.array(rng.lognormal(9.5, 0.8, closed)),
            "employee_id": keys("e", closer),
            "team_name": teams(closer),
            "territory_code": pa.array([f"T{r % 8}" for r in closer.tolist()]),
        }
    )
    months = np.array([np.datetime64("2026-01-01"), np.datetime64("2026-02-01"), np.datetime64("2026-03-01")])
    quota_rep = np.repeat(np.arange(reps), 3)
    quotas = pa.table(
        {
            "employee_id": keys("e", quota_rep),
            "period_start_date": pa.array(np.tile(months, reps).astype("datetime64[D]")),
            "quota_amount": pa.array(np.full(3 * reps, 150_000.0)),
            "team_name": teams(quota_rep),
            "territory_code": pa.array([f"T{r % 8}" for r in quota_rep.tolist()]),
        }
    )
    return {"open": open_table, "history": history, "deals": deals, "quotas": quotas, "reps": reps}


def run(open_deals: int, simulations: int = 10_000, seed: int = 35) -> dict:
    """Time and peak memory (this process) of one forecast over ``open_deals`` synthetic open deals."""
    inputs = synthetic_inputs(open_deals)
    history, deals, quotas = (
        history_from_arrow(inputs["history"]),
        deals_from_arrow(inputs["deals"]),
        quotas_from_arrow(inputs["quotas"]),
    )
    baseline = tree_rss_bytes(os.getpid())
    with PeakMemory(os.getpid()) as memory:
        started = time.perf_counter()
        table = forecast_table([(FORECAST_DATE, True)], inputs["open"], history, deals, quotas, simulations, seed=seed)
        seconds = time.perf_counter() - started
    return {
        "open_deals": open_deals,
        "reps": inputs["reps"],
        "simulations": simulations,
        "seconds": round(seconds, 1),
        "rows": table.num_rows,
        "peak_rss_gib": round(memory.peak_bytes / 1024**3, 2),
        "rss_before_gib": round(baseline / 1024**3, 2),
    }


def render(result: dict) -> str:
    return (
        f"forecast: {result['simulations']:,} simulations over {result['open_deals']:,} open deals "
        f"({result['reps']:,} reps): {result['seconds']} s, peak {result['peak_rss_gib']} GiB "
        f"(process, {result['rss_before_gib']} GiB before)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=OPEN_DEALS["large"])
    parser.add_argument("--simulations", type=int, default=10_000)
    args = parser.parse_args()
    outcome = run(args.deals, args.simulations)
    print(render(outcome))
    print(json.dumps(outcome))
