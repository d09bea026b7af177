"""Row-level dbt tests of the big incremental models check the rows the build wrote; a check run
without a build (`spm check`, checks_job) checks every row (dbt_project/macros/test_scope.sql)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb

from tests.job_runs import run_warehouse_job

UNIQUE_ACTIVITY = "unique_fct_activities_activity_id"


def _check_outcomes(result: dg.ExecuteInProcessResult) -> dict[str, bool]:
    return {e.check_name: e.passed for e in result.get_asset_check_evaluations()}


def _run_checks_job(warehouse: Path) -> dg.ExecuteInProcessResult:
    from orchestration.build import build_definitions

    return (
        build_definitions(warehouse=warehouse)
        .resolve_job_def("checks_job")
        .execute_in_process(
            run_config={"resources": {"warehouse": {"config": {"warehouse_path": str(warehouse), "landing_dir": ""}}}},
            instance=dg.DagsterInstance.ephemeral(),
            raise_on_error=False,
        )
    )


def test_a_build_tests_its_own_rows_and_a_check_run_tests_all(
    dbt_manifest: Path, tiny_landing: Path, tmp_path: Path
) -> None:
    warehouse = tmp_path / "w.duckdb"
    first = run_warehouse_job(tiny_landing, warehouse)
    assert first.success
    assert _check_outcomes(first)[UNIQUE_ACTIVITY]

    # An activity written twice by an earlier build (as a faulty model change could leave it).
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("insert into marts.fct_activities select * from marts.fct_activities limit 1")

    # The next build writes no activity (nothing new landed): its unique test reads only the
    # rows it stamped, so it does not see the earlier duplicate ...
    rebuilt = run_warehouse_job(tiny_landing, warehouse)
    assert _check_outcomes(rebuilt)[UNIQUE_ACTIVITY]

    # ... and a check run, which builds nothing, tests every row and finds it.
    checked = _run_checks_job(warehouse)
    assert _check_outcomes(checked)[UNIQUE_ACTIVITY] is False
