"""The project's own generic dbt tests (dbt_project/data-tests/generic/) find what they name."""

from __future__ import annotations

from pathlib import Path

import duckdb

from tests.job_runs import check_outcomes, run_checks_job, run_warehouse_job

OWNERS_KEY = "primary_key_stg_crm__owners_owner_id"
PIPELINES_KEY = "primary_key_stg_crm__pipelines_pipeline_id"


def test_primary_key_fails_on_a_null_key_and_on_a_repeated_key(
    dbt_manifest: Path, tiny_landing: Path, tmp_path: Path
) -> None:
    warehouse = tmp_path / "w.duckdb"
    built = run_warehouse_job(tiny_landing, warehouse)
    assert built.success
    outcomes = check_outcomes(built)
    assert outcomes[OWNERS_KEY] and outcomes[PIPELINES_KEY]

    # Staged owners gain a row without an owner id, staged pipelines a second row of one id.
    with duckdb.connect(str(warehouse)) as connection:
        for view, replace in (("stg_crm__owners", "null as owner_id"), ("stg_crm__pipelines", None)):
            connection.execute(f"create table staging.{view}_kept as select * from staging.{view}")
            columns = f"* replace ({replace})" if replace else "*"
            extra = f"select {columns} from staging.{view}_kept"
            connection.execute(
                f"create or replace view staging.{view} as select * from staging.{view}_kept "
                f"union all ({extra} limit 1)"
            )

    checked = check_outcomes(run_checks_job(warehouse))
    assert checked[OWNERS_KEY] is False
    assert checked[PIPELINES_KEY] is False
    assert checked["primary_key_stg_hris__employees_employee_id"]
