"""The warehouse job runs end to end in-process."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from tests.dbt_cli import run_dbt
from tests.job_runs import run_warehouse_job, summarise_run
from tests.warehouse_checks import count


def test_job_runs_end_to_end(dbt_manifest: Path, tiny_landing: Path, tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    instance = dg.DagsterInstance.ephemeral()
    result = run_warehouse_job(tiny_landing, warehouse, instance)
    summary = summarise_run(result, warehouse, tiny_landing)
    assert result.success, summary.render()
    # one dbt build for every model, finance included, after the loads and the suites
    steps = [
        record.dagster_event.step_key
        for record in instance.all_logs(result.run_id, of_type=dg.DagsterEventType.STEP_START)
    ]
    assert steps.count("dbt_build") == 1 and not any(step.startswith("dbt") and step != "dbt_build" for step in steps)
    assert steps.index("dbt_build") > max(steps.index(step) for step in steps if step.startswith("load_"))
    assert steps.index("dbt_build") > steps.index("expectation_suites")
    assert summary.models_not_built == [] and summary.finance_held_back == []
    assert summary.rows_loaded["raw_crm/deals"] == 2
    staging = [m for m in summary.models_built if m.startswith("staging/stg_")]
    assert len(staging) == 25
    assert {"marts/dim_reps", "marts/fct_deals", "marts/fct_quotas"} <= set(summary.models_built)
    assert summary.checks_failed == [] and summary.checks_passed > 50
    assert count(warehouse, "staging.stg_crm__deals where amount = 1000.50 and close_date = date '2025-01-20'") == 1
    assert count(warehouse, "staging.stg_hris__employees where termination_date is null") == 2

    _assert_not_null_constraints_enforced(dbt_manifest, warehouse)
    _assert_check_constraints_enforced(dbt_manifest, warehouse)
    _assert_incremental_tables_get_declared_not_null(warehouse, tmp_path / "target")


def _assert_not_null_constraints_enforced(manifest_path: Path, warehouse: Path) -> None:
    """Every not_null constraint of a contract is a NOT NULL column of the built table, which refuses a null."""
    manifest = json.loads(manifest_path.read_text())
    declared = {
        (node["schema"], node["alias"], column)
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        for column, spec in node["columns"].items()
        if any(constraint["type"] == "not_null" for constraint in spec.get("constraints", []))
    }
    assert len(declared) >= 130
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        not_null = set(
            connection.execute(
                "select table_schema, table_name, column_name from information_schema.columns where is_nullable = 'NO'"
            ).fetchall()
        )
    assert declared <= not_null, sorted(declared - not_null)[:5]
    with duckdb.connect(str(warehouse)) as connection, pytest.raises(duckdb.ConstraintException, match="NOT NULL"):
        connection.execute("insert into rejects.rejects_crm__deals (entity) values (null)")


def _assert_check_constraints_enforced(manifest_path: Path, warehouse: Path) -> None:
    """Every check constraint of a contract (the accepted values of a rebuilt table) is on the built table."""
    manifest = json.loads(manifest_path.read_text())
    declared = {
        (node["schema"], node["alias"], constraint["expression"].replace(" ", "").lower())
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        for spec in node["columns"].values()
        for constraint in spec.get("constraints", [])
        if constraint["type"] == "check"
    }
    assert len(declared) >= 19
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        built = {
            (schema, table, expression.replace(" ", "").lower().removeprefix("(").removesuffix(")"))
            for schema, table, expression in connection.execute(
                "select schema_name, table_name, expression from duckdb_constraints() where constraint_type = 'CHECK'"
            ).fetchall()
        }
    assert declared <= built, sorted(declared - built)[:5]
    assert count(warehouse, "marts.mart_sales_kpis") > 0
    with duckdb.connect(str(warehouse)) as connection, pytest.raises(duckdb.ConstraintException, match="CHECK"):
        connection.execute("update marts.mart_sales_kpis set period_grain = 'week'")


def _assert_incremental_tables_get_declared_not_null(warehouse: Path, target: Path) -> None:
    """An incremental table built before a not_null constraint was declared gets it on its next build,
    and a null already in such a column fails that build, naming the column, and leaves the rows as they were."""
    column = ("marts", "fct_deals", "currency_code")

    def nullable() -> str:
        with duckdb.connect(str(warehouse), read_only=True) as connection:
            return connection.execute(
                "select is_nullable from information_schema.columns "
                "where table_schema = ? and table_name = ? and column_name = ?",
                list(column),
            ).fetchone()[0]

    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("alter table marts.fct_deals alter column currency_code drop not null")
    assert nullable() == "YES"
    result = run_dbt(["run", "--select", "fct_deals"], warehouse, target)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "Adding NOT NULL to" in result.stdout and nullable() == "NO"

    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("alter table marts.fct_deals alter column currency_code drop not null")
        connection.execute(
            "update marts.fct_deals set currency_code = null where deal_id = (select min(deal_id) from marts.fct_deals)"
        )
    rows = count(warehouse, "marts.fct_deals")
    result = run_dbt(["run", "--select", "fct_deals"], warehouse, target)
    assert result.returncode == 1 and "NOT NULL constraint failed: fct_deals.currency_code" in result.stdout, (
        result.stdout[-3000:]
    )
    assert nullable() == "YES" and count(warehouse, "marts.fct_deals") == rows
