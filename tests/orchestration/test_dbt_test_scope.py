"""Row-level dbt tests of the big incremental models check the rows the build wrote, those of the
big raw tables the rows the build stages; a check run without a build (`spm check`, checks_job)
checks every row (dbt_project/macros/test_scope.sql)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from tests.job_runs import check_outcomes, run_checks_job, run_warehouse_job

UNIQUE_ACTIVITY = "unique_fct_activities_activity_id"


def test_a_build_tests_its_own_rows_and_a_check_run_tests_all(
    dbt_manifest: Path, tiny_landing: Path, tmp_path: Path
) -> None:
    warehouse = tmp_path / "w.duckdb"
    first = run_warehouse_job(tiny_landing, warehouse)
    assert first.success
    assert check_outcomes(first)[UNIQUE_ACTIVITY]

    # An activity written twice by an earlier build (as a faulty model change could leave it).
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("insert into marts.fct_activities select * from marts.fct_activities limit 1")

    # The next build writes no activity (nothing new landed): its unique test reads only the
    # rows it stamped, so it does not see the earlier duplicate ...
    rebuilt = run_warehouse_job(tiny_landing, warehouse)
    assert check_outcomes(rebuilt)[UNIQUE_ACTIVITY]

    # ... and a check run, which builds nothing, tests every row and finds it.
    checked = run_checks_job(warehouse)
    assert check_outcomes(checked)[UNIQUE_ACTIVITY] is False


UNIQUE_RAW_CALL = "source_primary_key_crm_calls_id"


def test_raw_tests_of_a_build_check_the_rows_it_stages(dbt_manifest: Path, tiny_landing: Path, tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    assert run_warehouse_job(tiny_landing, warehouse).success
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        staged_through = connection.execute("select max(_dlt_load_id) from staging.base_crm__calls").fetchone()[0]

    # A raw call written twice within loads staging has already taken: a build stages nothing
    # of it and its unique test does not read those rows; a check run reads every row.
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("insert into raw_crm.calls select * from raw_crm.calls limit 1")
    assert check_outcomes(run_warehouse_job(tiny_landing, warehouse))[UNIQUE_RAW_CALL]
    assert check_outcomes(run_checks_job(warehouse))[UNIQUE_RAW_CALL] is False

    # A call written twice within a load staging has not taken yet (as a first load, which
    # appends, could): the build's test reads those rows and fails.
    newer = f"{float(staged_through) + 1:.6f}"
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute(
            "insert into raw_crm.calls select * replace (? as _dlt_load_id) from raw_crm.calls "
            "where id = (select max(id) from raw_crm.calls) union all "
            "select * replace (? as _dlt_load_id) from raw_crm.calls where id = (select max(id) from raw_crm.calls)",
            [newer, newer],
        )
    assert check_outcomes(run_warehouse_job(tiny_landing, warehouse))[UNIQUE_RAW_CALL] is False
