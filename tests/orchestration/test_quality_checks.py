"""Source freshness: dbt's policies from the manifest, evaluated like `dbt source freshness`."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg

from orchestration.assets.quality_checks import FreshnessPolicy, freshness_policies, freshness_result

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
