"""Great Expectations suites (``expectations/``) and dbt source freshness as Dagster asset checks.

Each suite is a check on the staging asset of its entity; it reads the raw rows of the current
load (see ``spm.quality``). A failed critical expectation gives an ERROR result; suites marked
``blocks_finance`` are blocking, so the finance models (which depend on those staging assets)
are skipped in that run. Warnings never block.
"""

import datetime as dt
import json
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

from orchestration.assets.ingestion import WAREHOUSE_POOL
from orchestration.dbt_manifest import parsed_manifest
from orchestration.resources import WarehouseResource
from spm.quality.suites import Suite, load_suites
from spm.quality.validate import SuiteOutcome, run_suites


class SuiteRunConfig(dg.Config):
    """``full: true`` re-validates every row instead of the rows loaded since the last pass."""

    full: bool = False


def finance_guards() -> list[dg.AssetKey]:
    """Staging assets whose suites hold the finance models back when they fail."""
    return [dg.AssetKey(list(suite.asset)) for suite in load_suites() if suite.blocks_finance]


def _spec(suite: Suite) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        name=suite.check_name,
        asset=dg.AssetKey(list(suite.asset)),
        description=f"{suite.description} (expectations/{suite.path.name}, scope: {suite.scope})",
        blocking=suite.blocks_finance,
        additional_deps=[dg.AssetKey(list(table)) for table in suite.raw_tables],
        metadata={"suite_file": f"expectations/{suite.path.name}", "suite_version": suite.version},
    )


def check_result(outcome: SuiteOutcome) -> dg.AssetCheckResult:
    """The Dagster result of one suite validation, with its statistics as metadata."""
    suite = outcome.suite
    failed = outcome.failed_critical + outcome.failed_warning
    lines = ["| severity | expectation | unexpected | of | examples (value, file, line) |", "|---|---|---|---|---|"]
    for item in failed:
        examples = "; ".join(json.dumps(e, default=str) for e in item.examples[:3]) or (item.error or "")
        lines.append(
            f"| {item.severity} | {item.summary} | {item.unexpected_count} | {item.element_count} | "
            f"{examples.replace('|', '/')} |"
        )
    metadata: dict[str, dg.RawMetadataValue] = {
        "scope": outcome.scope,
        "after_load_id": outcome.after_load_id or "",
        "through_load_id": outcome.through_load_id or "",
        "rows_evaluated": outcome.rows_evaluated,
        "expectations_evaluated": len(outcome.outcomes),
        "expectations_failed_critical": len(outcome.failed_critical),
        "expectations_failed_warning": len(outcome.failed_warning),
        "validation_id": outcome.validation_id,
    }
    if outcome.reused_validation_id is not None:
        metadata["results_of_validation"] = outcome.reused_validation_id
    if outcome.rejected_rows is not None:
        metadata["rejected_rows_of_entity"] = outcome.rejected_rows
    if failed:
        metadata["failures"] = dg.MetadataValue.md("\n".join(lines))
    return dg.AssetCheckResult(
        asset_key=dg.AssetKey(list(suite.asset)),
        check_name=suite.check_name,
        passed=not failed,
        severity=dg.AssetCheckSeverity.ERROR if outcome.failed_critical else dg.AssetCheckSeverity.WARN,
        metadata=metadata,
        description="; ".join(f"{f.severity}: {f.summary} ({f.unexpected_count} rows)" for f in failed) or None,
    )


#: Name of the suites' op, and so of its step.
SUITES_STEP = "expectation_suites"


def build_suite_checks() -> dg.AssetChecksDefinition:
    """One check per suite, in one op (GX is imported once), subsettable from the UI."""
    suites = {dg.AssetCheckKey(dg.AssetKey(list(s.asset)), s.check_name): s for s in load_suites()}

    @dg.multi_asset_check(
        specs=[_spec(suite) for suite in suites.values()],
        name=SUITES_STEP,
        can_subset=True,
        pool=WAREHOUSE_POOL,
        description="Great Expectations suites of expectations/ on the rows of the current load.",
    )
    def expectation_suites(
        context: dg.AssetCheckExecutionContext, config: SuiteRunConfig, warehouse: WarehouseResource
    ) -> Iterator[dg.AssetCheckResult]:
        selected = [suite for key, suite in suites.items() if key in context.selected_asset_check_keys]
        with warehouse.writing(context):
            for outcome in run_suites(warehouse.path, selected, full=config.full, run_id=context.run.run_id):
                yield check_result(outcome)

    return expectation_suites


_PERIOD_S = {"minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class FreshnessPolicy:
    """dbt's freshness policy of one source table, as the manifest states it."""

    schema: str
    table: str
    loaded_at_field: str
    warn_after_s: float | None
    error_after_s: float | None

    @property
    def key(self) -> dg.AssetKey:
        """The raw table's asset key."""
        return dg.AssetKey([self.schema, self.table])


def _seconds(threshold: dict | None) -> float | None:
    if not threshold or not threshold.get("count"):
        return None
    return float(threshold["count"]) * _PERIOD_S[threshold["period"]]


def freshness_policies(manifest: Mapping[str, Any]) -> list[FreshnessPolicy]:
    """Every dbt source table with a freshness policy and a ``loaded_at_field``."""
    policies = []
    for node in manifest["sources"].values():
        freshness = node.get("freshness") or {}
        warn, error = _seconds(freshness.get("warn_after")), _seconds(freshness.get("error_after"))
        if (warn or error) and node.get("loaded_at_field"):
            policies.append(FreshnessPolicy(node["schema"], node["identifier"], node["loaded_at_field"], warn, error))
    return sorted(policies, key=lambda p: (p.schema, p.table))


def freshness_result(policy: FreshnessPolicy, newest_epoch_s: float | None, now_epoch_s: float) -> dg.AssetCheckResult:
    """dbt's freshness rule (error after, else warn after, else pass) for one table."""
    if newest_epoch_s is None:
        return dg.AssetCheckResult(
            asset_key=policy.key, check_name="source_freshness", passed=False, description="no rows loaded yet"
        )
    age = max(0.0, now_epoch_s - newest_epoch_s)
    if policy.error_after_s is not None and age > policy.error_after_s:
        status = "error"
    elif policy.warn_after_s is not None and age > policy.warn_after_s:
        status = "warn"
    else:
        status = "pass"
    return dg.AssetCheckResult(
        asset_key=policy.key,
        check_name="source_freshness",
        passed=status == "pass",
        severity=dg.AssetCheckSeverity.WARN if status == "warn" else dg.AssetCheckSeverity.ERROR,
        metadata={
            "status": status,
            "max_loaded_at": dt.datetime.fromtimestamp(newest_epoch_s, dt.UTC).isoformat(timespec="seconds"),
            "hours_since_last_load": round(age / 3600, 2),
            "warn_after_hours": None if policy.warn_after_s is None else policy.warn_after_s / 3600,
            "error_after_hours": None if policy.error_after_s is None else policy.error_after_s / 3600,
        },
        description=None if status == "pass" else f"last load {age / 3600:.1f} h ago ({status} threshold passed)",
    )


def newest_load_time(connection: duckdb.DuckDBPyConnection, policy: FreshnessPolicy) -> float | None:
    """The newest ``loaded_at_field`` of the policy's table in epoch seconds; None without table or rows.

    The field is dlt's load time, an expression of ``_dlt_load_id``: it is computed once per load
    (the distinct load ids, a few hundred) rather than once per row (6 M calls; 0.27 s for all raw
    tables at the large scale, 0.04 s this way). A field that reads any other column does not bind
    on the load ids alone and is computed over every row, as dbt does.
    """
    table = f'"{policy.schema}"."{policy.table}"'
    try:
        try:
            loads = f"(select distinct _dlt_load_id from {table}) as loads"
            return connection.execute(f"select epoch(max({policy.loaded_at_field})) from {loads}").fetchone()[0]
        except duckdb.BinderException:
            return connection.execute(f"select epoch(max({policy.loaded_at_field})) from {table}").fetchone()[0]
    except duckdb.CatalogException:
        return None


def build_freshness_checks(manifest_path: Path) -> dg.AssetChecksDefinition:
    """dbt's source freshness policies as one check per raw table.

    The policies (``warn_after`` / ``error_after`` on ``loaded_at_field``) come from the dbt
    manifest, as ``dbt source freshness`` would use them; the newest load time is read with one
    query per table instead of starting a dbt process, which costs seconds on every run.
    """
    policies = freshness_policies(parsed_manifest(Path(manifest_path)))
    specs = [
        dg.AssetCheckSpec(
            name="source_freshness",
            asset=policy.key,
            description=f"dbt source freshness on {policy.loaded_at_field}: warn after "
            f"{(policy.warn_after_s or 0) / 3600:g} h, error after {(policy.error_after_s or 0) / 3600:g} h.",
        )
        for policy in policies
    ]

    @dg.multi_asset_check(specs=specs, name="source_freshness", can_subset=True, pool=WAREHOUSE_POOL)
    def source_freshness(
        context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
    ) -> Iterator[dg.AssetCheckResult]:
        selected = {key.asset_key for key in context.selected_asset_check_keys}
        with warehouse.writing(context), duckdb.connect(str(warehouse.path)) as connection:
            now = time.time()
            for policy in policies:
                if policy.key not in selected:
                    continue
                yield freshness_result(policy, newest_load_time(connection, policy), now)

    return source_freshness
