"""The `medium` company's commissions are plausible against its plans (bounds in README, 'For finance')."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from synthetic import generate
from tests.finance.plausibility import assert_plausible_commissions
from tests.job_runs import run_warehouse_job, summarise_run


def test_medium_company_commissions_are_plausible(dbt_manifest: Path, tmp_path: Path) -> None:
    landing, warehouse = tmp_path / "landing", tmp_path / "w.duckdb"
    generate(landing, "medium", 42, dt.date(2025, 12, 31))
    result = run_warehouse_job(landing, warehouse)
    summary = summarise_run(result, warehouse)
    assert result.success and not summary.checks_failed, summary.render()
    assert_plausible_commissions(warehouse)
