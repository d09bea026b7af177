"""Incremental dbt models end where a full rebuild would: after a next-week run on the `small`
company, a next-day run in the same month (the finance models re-derive only the changed
employees' months), and a run that must repair a stale and a stray expense schedule and re-apply
a payout scope that was never committed, rebuilding every incremental model from scratch changes
none of their rows."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb

from synthetic import generate
from tests.dbt_cli import run_dbt
from tests.job_runs import run_warehouse_job
from tests.warehouse_checks import table_fingerprints

T0 = dt.date(2025, 12, 31)
#: Snapshots keep what earlier runs saw: a rebuild from scratch cannot reproduce them by design.
HISTORY_KEEPING = {"fct_pipeline_snapshots"}
#: When a build (re)wrote a row; a rebuild from scratch restamps every row.
BUILD_STAMPS = ("_staged_at", "staged_at", "built_at")
#: The files a line's plan rows came from: the next day re-delivers the plan files with the same
#: content, which re-derives nothing (docs/commission_plans.md, "The audit trail"), so a line not
#: re-derived names the earlier, identical delivery where a rebuild names the latest.
PLAN_ROW_SOURCES = (
    "split_source_file",
    "split_source_line",
    "quota_source_file",
    "quota_source_line",
    "rule_source_file",
    "rule_source_line",
    "rule_source_location",
)
SCHEDULE = "marts.mart_commission_expense_schedule"
SCOPE = "intermediate.int_payout_scope_detected"


def _incremental_models(manifest: Path) -> dict[str, str]:
    import json

    nodes = json.loads(manifest.read_text())["nodes"].values()
    return {
        node["name"]: node["schema"]
        for node in nodes
        if node["resource_type"] == "model"
        and node["config"]["materialized"] == "incremental"
        and node["name"] not in HISTORY_KEEPING
    }


def _rebuild_from_scratch(warehouse: Path, models: list[str], target: Path) -> None:
    result = run_dbt(["run", "--full-refresh", "--select", *models], warehouse, target)
    assert result.returncode == 0, result.stdout[-4000:]


def _schedule_rows_rewritten(warehouse: Path) -> tuple[int, int]:
    """Rows of the expense schedule the last build wrote, and all its rows."""
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(
            f"select count(*) filter (where built_at = (select max(built_at) from {SCHEDULE})), count(*) "
            f"from {SCHEDULE}"
        ).fetchone()


def _payout_scope(warehouse: Path) -> tuple[list[str], int, bool]:
    """Employees (and '-') the last finance build re-derived, how many keys there are, and
    whether everything was re-derived."""
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        rederived = connection.execute(
            f"select distinct scope_key from {SCOPE} "
            "where rederive_from_month is not null and scope_key <> '*' order by 1"
        ).fetchall()
        keys, everything = connection.execute(
            "select count(distinct scope_key), bool_or(scope_key = '*' and rederive_from_month is not null) "
            f"from {SCOPE}"
        ).fetchone()
    return [key for (key,) in rederived], keys, everything


def _incremental_filters_are_constants(warehouse: Path, target: Path) -> None:
    """The load and staging watermarks of incremental builds are constants (macro high_watermark),
    which DuckDB checks against row-group min/max, not subqueries that read every row."""
    models = {"base_crm__calls": "_dlt_load_id > cast('", "fct_activities": "_staged_at > cast('"}
    result = run_dbt(["compile", "--select", *models], warehouse, target)
    assert result.returncode == 0, result.stdout[-4000:]
    for model, constant in models.items():
        (compiled,) = target.glob(f"compiled/**/{model}.sql")
        sql = compiled.read_text()
        assert constant in sql, model
        assert "(select coalesce(max(" not in sql, model


def test_next_day_incremental_models_equal_a_rebuild(dbt_manifest: Path, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    warehouse = tmp_path / "incremental" / "w.duckdb"
    generate(landing, "small", 42, T0)
    assert run_warehouse_job(landing, warehouse).success
    generate(landing, "small", 42, T0 + dt.timedelta(days=7))
    assert run_warehouse_job(landing, warehouse).success

    models = _incremental_models(dbt_manifest)
    assert {"fct_activities", "fct_deal_stage_transitions", "mart_commission_expense_schedule"} <= set(models)
    rewritten, rows = _schedule_rows_rewritten(warehouse)
    # The week's payouts changed some schedules, and only those were rewritten.
    assert 0 < rewritten < rows / 2

    # The next day, in the same month: a few employees' commission rows are re-derived, not all.
    generate(landing, "small", 42, T0 + dt.timedelta(days=8))
    assert run_warehouse_job(landing, warehouse).success
    next_day, keys, everything = _payout_scope(warehouse)
    assert not everything
    assert 0 < len(next_day) < keys / 2
    rows = _schedule_rows_rewritten(warehouse)[1]

    with duckdb.connect(str(warehouse)) as connection:
        # A schedule the payouts no longer hold (the post-hook must delete it) and a schedule
        # whose stored inputs differ from its payout line's (the next build must re-derive it).
        altered = connection.execute(
            f"update {SCHEDULE} set capitalised_amount = capitalised_amount + 1 "
            f"where payout_line_key = (select max(payout_line_key) from {SCHEDULE}) returning month_number"
        ).fetchall()
        connection.execute(
            f"insert into {SCHEDULE} select * replace ('ghost' as payout_line_key, 'ghost|' || month_number "
            f"as schedule_key) from {SCHEDULE} where payout_line_key = (select min(payout_line_key) from {SCHEDULE})"
        )
        # As if the finance build had failed after computing its scope: never committed.
        connection.execute(f"update {SCOPE} set is_committed = false")
    # Nothing new landed: the build re-derives the altered line alone and drops the ghost, and
    # re-derives the uncommitted scope's employees again.
    assert run_warehouse_job(landing, warehouse).success
    assert _schedule_rows_rewritten(warehouse) == (len(altered), rows)
    assert _payout_scope(warehouse) == (next_day, keys, False)

    _incremental_filters_are_constants(warehouse, tmp_path / "compiled")

    rebuilt = tmp_path / "rebuilt" / "w.duckdb"
    shutil.copytree(warehouse.parent, rebuilt.parent)
    _rebuild_from_scratch(rebuilt, sorted(models), tmp_path / "dbt_target")

    schemas = tuple(sorted(set(models.values())))
    assert {"fct_payouts", "mart_commission_statements", "int_commission_lines_tiered"} <= set(models)
    incremental = table_fingerprints(warehouse, schemas, exclude=BUILD_STAMPS + PLAN_ROW_SOURCES)
    from_scratch = table_fingerprints(rebuilt, schemas, exclude=BUILD_STAMPS + PLAN_ROW_SOURCES)
    for model, schema in models.items():
        relation = f"{schema}.{model}"
        assert incremental[relation] == from_scratch[relation], relation
