"""Pipeline snapshots keep their history when later loads change the deals."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from synthetic import generate
from tests.job_runs import run_warehouse_job


def _run(landing: Path, warehouse: Path) -> None:
    assert run_warehouse_job(landing, warehouse).success


def _snapshots(warehouse: Path) -> dict:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        rows = connection.execute(
            "select snapshot_date, count(*), sum(amount_reporting), bool_and(is_reconstructed), "
            "bit_xor(hash(deal_id, deal_stage_id, amount_reporting, expected_close_date)) "
            "from marts.fct_pipeline_snapshots group by 1"
        ).fetchall()
    return {row[0]: row[1:] for row in rows}


def test_later_loads_append_snapshots_without_rewriting_history(dbt_manifest: Path, tmp_path: Path) -> None:
    landing, warehouse = tmp_path / "landing", tmp_path / "w.duckdb"
    generate(landing, "small", 42, dt.date(2025, 12, 31))
    _run(landing, warehouse)
    before = _snapshots(warehouse)
    assert dt.date(2025, 12, 1) in before and dt.date(2026, 1, 1) not in before
    generate(landing, "small", 42, dt.date(2026, 2, 1))
    _run(landing, warehouse)
    after = _snapshots(warehouse)
    # every earlier snapshot is untouched although deals moved, closed or changed amount since
    assert {day: after[day] for day in before} == before
    # new month starts were appended; the one taken on its own date is not a reconstruction
    assert dt.date(2026, 1, 1) in after and dt.date(2026, 2, 1) in after
    assert after[dt.date(2026, 2, 1)][2] is False
    assert after[dt.date(2026, 1, 1)][2] is True
