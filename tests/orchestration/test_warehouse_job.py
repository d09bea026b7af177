"""The warehouse job runs end to end in-process."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from orchestration import dbt_warm_process
from orchestration.resources import LAUNCHER, WARM_DBT_SERVED, dbt_executable
from spm.run_summary import summarise
from tests.job_runs import run_warehouse_job
from tests.warehouse_checks import count


def test_job_runs_end_to_end(dbt_manifest: Path, tiny_landing: Path, tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    instance = dg.DagsterInstance.ephemeral()
    result = run_warehouse_job(tiny_landing, warehouse, instance)
    summary = summarise(result, 0.0)
    assert result.success, summary.render()
    messages = [record.user_message for record in instance.all_logs(result.run_id)]
    if dbt_warm_process.supported() and Path(dbt_executable()).name == LAUNCHER:
        # both dbt steps (models, finance) ran in the run's warm dbt process
        assert f"{WARM_DBT_SERVED}: 2" in messages, [m for m in messages if "warm" in m]
    else:
        assert not any(WARM_DBT_SERVED in message for message in messages)
    assert summary.rows_loaded["raw_crm/deals"] == 2
    staging = [m for m in summary.models_built if m.startswith("staging/stg_")]
    assert len(staging) == 23
    assert {"marts/dim_reps", "marts/fct_deals", "marts/fct_quotas"} <= set(summary.models_built)
    assert summary.checks_failed == [] and summary.checks_passed > 50
    assert count(warehouse, "staging.stg_crm__deals where amount = 1000.50 and close_date = date '2025-01-20'") == 1
    assert count(warehouse, "staging.stg_hris__employees where termination_date is null") == 2
