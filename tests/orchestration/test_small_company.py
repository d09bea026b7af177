"""End to end on the generated `small` company: the job, idempotent loads, incremental worlds."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from ingestion.pipelines import RAW_DATASETS, make_pipeline, make_source
from synthetic import generate
from tests.job_runs import run_warehouse_job, summarise_run
from tests.warehouse_checks import count, table_fingerprints

T0 = dt.date(2025, 12, 31)
RAW = tuple(RAW_DATASETS.values())


@pytest.fixture(scope="module")
def small_landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    landing = tmp_path_factory.mktemp("small") / "landing"
    generate(landing, "small", 42, T0)
    return landing


def load(landing: Path, warehouse: Path) -> dict[str, int]:
    rows: dict[str, int] = {}
    for name in RAW_DATASETS:
        pipeline = make_pipeline(name, warehouse)
        pipeline.run(make_source(name, landing, warehouse))
        rows.update(pipeline.last_trace.last_normalize_info.row_counts)
    return rows


def test_job_builds_and_checks_the_small_company(dbt_manifest: Path, small_landing: Path, tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    result = run_warehouse_job(small_landing, warehouse)
    summary = summarise_run(result, warehouse)
    assert result.success, summary.render()
    assert summary.checks_failed == [], summary.checks_failed
    manifest = json.loads((small_landing / "_manifest.json").read_text())["batches"][0]["files"]
    for entity in ("deals", "calls", "contacts", "companies"):
        in_files = sum(v["rows"] for k, v in manifest.items() if k.startswith(f"crm/{entity}/"))
        assert summary.rows_loaded[f"raw_crm/{entity}"] == in_files
        assert count(warehouse, f"staging.stg_crm__{entity}") == in_files
    assert count(warehouse, "staging.stg_crm__deals where amount is null") == 0
    assert count(warehouse, "staging.stg_hris__employees where hire_date is null") == 0
    assert_plausible_kpis(warehouse)


def assert_plausible_kpis(warehouse: Path) -> None:
    """Documented sanity bounds for the small company's 2025 quarters (README, 'Sanity bounds')."""
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as connection:
        rows = connection.execute(
            """select win_rate, quota_attainment, lead_answered_24h_share, reps_at_quota_share,
                      sales_cycle_days_median, average_deal_size, calls, bookings_per_quota_carrying_fte
               from marts.mart_sales_kpis
               where group_type = 'company' and period_grain = 'quarter' and year(period_start_date) = 2025"""
        ).fetchall()
        reps = connection.execute(
            "select count(*) from marts.mart_sales_kpis where group_type = 'rep' and period_grain = 'quarter' "
            "and year(period_start_date) = 2025 and won_deals > 0"
        ).fetchone()[0]
    assert len(rows) == 4
    for win, attainment, answered, at_quota, cycle, deal_size, calls, per_rep in rows:
        assert 0.12 <= win <= 0.45
        assert 0.4 <= attainment <= 2.5
        assert 0.6 <= answered <= 0.98
        assert 0.0 <= at_quota <= 1.0
        assert 15 <= cycle <= 120
        assert 5_000 <= deal_size <= 150_000
        assert calls > 1_000 and per_rep > 0
    assert reps >= 40  # most of ~20 reps book something every quarter


def test_loading_twice_changes_nothing(small_landing: Path, tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    first_rows = load(small_landing, warehouse)
    first = table_fingerprints(warehouse, RAW)
    second_rows = load(small_landing, warehouse)
    assert table_fingerprints(warehouse, RAW) == first
    assert first_rows["deals"] > 1000
    # incremental entities read nothing the second time; snapshots (plans, pipelines) are replaced
    assert not {"deals", "calls", "contacts", "employees", "answers"} & set(second_rows)


def test_next_day_updates_in_place(small_landing: Path, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    generate(landing, "small", 42, T0)
    warehouse = tmp_path / "incremental.duckdb"
    load(landing, warehouse)
    before = {r[0]: r[1] for r in _deal_stages(warehouse)}
    t1 = T0 + dt.timedelta(days=7)
    generate(landing, "small", 42, t1)
    load(landing, warehouse)
    after = {r[0]: r[1] for r in _deal_stages(warehouse)}
    changed = [deal for deal, stage in before.items() if after[deal] != stage]
    assert changed, "some deals moved stage during the week"
    assert len(after) > len(before)
    for table, key in (("deals", "id"), ("calls", "id"), ("contacts", "id"), ("owners", "id")):
        assert count(warehouse, f"raw_crm.{table}") == count(
            warehouse, f"(select distinct {key} from raw_crm.{table})"
        ), f"duplicates in {table}"
    direct_landing = tmp_path / "direct"
    generate(direct_landing, "small", 42, t1)
    direct = tmp_path / "direct.duckdb"
    load(direct_landing, direct)
    exclude = ("_source_file", "_source_line")
    assert table_fingerprints(warehouse, RAW, exclude) == table_fingerprints(direct, RAW, exclude)


def _deal_stages(warehouse: Path) -> list[tuple[str, str]]:
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute("select id, dealstage from raw_crm.deals").fetchall()
