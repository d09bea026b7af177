"""dbt's unit tests (beside their models in the YAML) pass; the job itself leaves them out."""

from __future__ import annotations

import json
from pathlib import Path

from orchestration.defs.dbt import BUILD_ARGS
from tests.dbt_cli import run_dbt
from tests.job_runs import run_warehouse_job


def _unit_tests_in_project(manifest: Path) -> set[str]:
    return set(json.loads(manifest.read_text())["unit_tests"])


def test_unit_tests_pass_on_a_built_warehouse(dbt_manifest: Path, tiny_landing: Path, tmp_path: Path) -> None:
    # Unit tests read the column types of their models' inputs, so the warehouse is built first.
    warehouse = tmp_path / "w.duckdb"
    assert run_warehouse_job(tiny_landing, warehouse).success

    target = tmp_path / "dbt_target"
    done = run_dbt(["test", "--select", "test_type:unit"], warehouse, target)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    results = [
        r
        for r in json.loads((target / "run_results.json").read_text())["results"]
        if r["unique_id"].startswith("unit_test.")
    ]
    ran = {r["unique_id"] for r in results}
    assert ran == _unit_tests_in_project(dbt_manifest), "every unit test of the project ran"
    assert {r["status"] for r in results} == {"pass"}


def test_the_job_builds_without_unit_tests() -> None:
    assert BUILD_ARGS[0] == "build"
    assert BUILD_ARGS[BUILD_ARGS.index("--exclude-resource-type") + 1] == "unit_test"
