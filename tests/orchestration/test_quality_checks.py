"""Source freshness: dbt's policies from the manifest, evaluated like `dbt source freshness`."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.defs.quality import (
    FreshnessPolicy,
    freshness_policies,
    freshness_result,
    newest_load_time,
)

HOUR = 3600.0


def test_policies_come_from_the_dbt_manifest(dbt_manifest: Path) -> None:
    policies = {f"{p.schema}.{p.table}": p for p in freshness_policies(json.loads(dbt_manifest.read_text()))}
    deals = policies["raw_crm.deals"]
    assert (deals.warn_after_s, deals.error_after_s) == (24 * HOUR, 36 * HOUR)
    assert "_dlt_load_id" in deals.loaded_at_field
    # tables whose freshness is switched off in __sources.yml have no check
    assert "raw_crm.pipelines" not in policies and "raw_crm.deals_rejected" not in policies


def test_thresholds_pass_warn_error_and_no_rows() -> None:
    policy = FreshnessPolicy("raw_crm", "deals", "x", 24 * HOUR, 36 * HOUR)
    now = 1_000_000.0
    fresh = freshness_result(policy, now - 2 * HOUR, now)
    assert fresh.passed and fresh.metadata["status"].value == "pass"
    late = freshness_result(policy, now - 30 * HOUR, now)
    assert not late.passed and late.severity == dg.AssetCheckSeverity.WARN
    stale = freshness_result(policy, now - 40 * HOUR, now)
    assert not stale.passed and stale.severity == dg.AssetCheckSeverity.ERROR
    assert stale.metadata["hours_since_last_load"].value == 40.0
    empty = freshness_result(policy, None, now)
    assert not empty.passed and empty.severity == dg.AssetCheckSeverity.ERROR


def test_newest_load_time_per_load_or_per_row() -> None:
    connection = duckdb.connect()
    connection.execute(
        "create schema raw; create table raw.calls as select * from (values "
        "('1700000000.5', timestamp '2024-01-01 00:00:00'), ('1700003600.25', timestamp '2023-06-01 00:00:00'), "
        "('1700003600.25', timestamp '2023-06-02 00:00:00')) as t(_dlt_load_id, updated_at);"
        "create table raw.empty (_dlt_load_id varchar, updated_at timestamp)"
    )

    def policy(table: str, field: str) -> FreshnessPolicy:
        return FreshnessPolicy("raw", table, field, None, 3600.0)

    class Recording:
        """The connection, remembering the SQL it was given."""

        def __init__(self) -> None:
            self.sql: list[str] = []

        def execute(self, sql: str) -> duckdb.DuckDBPyConnection:
            self.sql.append(sql)
            return connection.execute(sql)

    load_time = "to_timestamp(cast(_dlt_load_id as double))"
    recording = Recording()
    assert newest_load_time(recording, policy("calls", load_time)) == 1700003600.25  # type: ignore[arg-type]
    assert len(recording.sql) == 1 and "distinct _dlt_load_id" in recording.sql[0]  # once per load
    # a field of another column is read from every row
    assert newest_load_time(connection, policy("calls", "updated_at")) == 1704067200.0
    assert newest_load_time(connection, policy("empty", load_time)) is None
    assert newest_load_time(connection, policy("missing", load_time)) is None
