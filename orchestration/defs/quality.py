"""Quality: the Great Expectations suites on what was loaded, and dbt's source freshness.

The suites (``expectations/*.json``) run in one step after the loads and before dbt. They read
the raw rows of the current load and record every validation in the warehouse table
``quality.suite_validations`` (and each expectation's result in ``quality.expectation_results``):
that table is the step's asset, and each suite is one check on it, with its statistics and
failing examples as metadata. A failed critical expectation is an ERROR result, a failed
warning a WARN one.

The suites marked ``blocks_finance`` hold the finance models back through dbt, not through
Dagster: the dbt model ``int_finance_suites_checked`` reads their latest validation from
``quality.suite_validations``, its test ``blocking_suites_passed`` fails when one of them
failed, and dbt's build then skips every commission model downstream of it, so the finance marts
keep their last good content while everything else is built. (A blocking Dagster check would
skip the whole dbt step instead.)
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
from pydantic import Field

from expectations.store import SCHEMA
from expectations.suites import Suite, load_suites
from expectations.validate import SuiteOutcome, run_suites
from orchestration.dbt_manifest import parsed_manifest
from orchestration.defs.ingestion import WAREHOUSE_POOL
from orchestration.resources import WarehouseResource

#: The table the suites write, and the asset of their step (a dbt source of the finance gate).
VALIDATIONS_KEY = dg.AssetKey([SCHEMA, "suite_validations"])
#: The suites there are now (the gate reads the latest validation of these only).
CATALOG_KEY = dg.AssetKey([SCHEMA, "suites"])
#: Name of the suites' step.
SUITES_STEP = "expectation_suites"


class SuiteRunConfig(dg.Config):
    """How the suites validate."""

    full: bool = Field(
        default=False,
        description="Re-validate every row of each raw table instead of the rows loaded since the "
        "suite's last passing validation.",
    )


def check_spec(suite: Suite) -> dg.AssetCheckSpec:
    """The Dagster check that runs one suite."""
    tables = ", ".join(".".join(table) for table in suite.raw_tables)
    blocking = (
        " A critical failure holds the finance models back (through the dbt test blocking_suites_passed)."
        if suite.blocks_finance
        else ""
    )
    return dg.AssetCheckSpec(
        name=suite.check_name,
        asset=VALIDATIONS_KEY,
        description=f"Great Expectations suite `expectations/{suite.path.name}` on {tables}: "
        f"{suite.description} Scope: {suite.scope}.{blocking}",
        additional_deps=[dg.AssetKey(list(table)) for table in suite.raw_tables],
        metadata={
            "suite_file": f"expectations/{suite.path.name}",
            "suite_version": suite.version,
            "raw_tables": tables,
            "blocks_finance": suite.blocks_finance,
        },
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
        "blocks_finance": suite.blocks_finance,
    }
    if outcome.reused_validation_id is not None:
        metadata["results_of_validation"] = outcome.reused_validation_id
    if failed:
        metadata["failures"] = dg.MetadataValue.md("\n".join(lines))
    return dg.AssetCheckResult(
        asset_key=VALIDATIONS_KEY,
        check_name=suite.check_name,
        passed=not failed,
        severity=dg.AssetCheckSeverity.ERROR if outcome.failed_critical else dg.AssetCheckSeverity.WARN,
        metadata=metadata,
        description="; ".join(f"{f.severity}: {f.summary} ({f.unexpected_count} rows)" for f in failed) or None,
    )


def build_suites_asset() -> dg.AssetsDefinition:
    """The suites' step: the ``quality.suite_validations`` asset and one check per suite."""
    suites = {dg.AssetCheckKey(VALIDATIONS_KEY, suite.check_name): suite for suite in load_suites()}
    raw_tables = sorted({table for suite in suites.values() for table in suite.raw_tables})

    @dg.multi_asset(
        specs=[
            dg.AssetSpec(
                CATALOG_KEY,
                group_name=SCHEMA,
                kinds={"duckdb"},
                description="The Great Expectations suites of `expectations/` as they are now: name, version, "
                "whether a critical failure holds finance back, file and raw tables.",
            ),
            dg.AssetSpec(
                VALIDATIONS_KEY,
                deps=[dg.AssetKey(list(table)) for table in raw_tables],
                group_name=SCHEMA,
                kinds={"duckdb"},
                description="Every validation of the Great Expectations suites of `expectations/`: one row per "
                "suite and run, with its scope (load ids), rows, failures and whether it blocks finance. Each "
                "expectation's result, with failing examples (value, file, line), is in "
                "`quality.expectation_results`.",
            ),
        ],
        check_specs=[check_spec(suite) for suite in suites.values()],
        name=SUITES_STEP,
        can_subset=True,
        pool=WAREHOUSE_POOL,
        description="Validate the Great Expectations suites of expectations/ on the rows of the current load.",
    )
    def expectation_suites(
        context: dg.AssetExecutionContext, config: SuiteRunConfig, warehouse: WarehouseResource
    ) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        selected = [suite for key, suite in suites.items() if key in context.selected_asset_check_keys]
        with warehouse.writing(context):
            outcomes = list(
                run_suites(
                    warehouse.path, selected, full=config.full, run_id=context.run.run_id, catalog=suites.values()
                )
            )
            rows = _validation_rows(warehouse.path)
        if CATALOG_KEY in context.selected_asset_keys:
            yield dg.MaterializeResult(
                asset_key=CATALOG_KEY,
                metadata={
                    "dagster/row_count": dg.MetadataValue.int(len(suites)),
                    "blocking": ", ".join(sorted(s.name for s in suites.values() if s.blocks_finance)),
                },
            )
        if VALIDATIONS_KEY in context.selected_asset_keys:
            yield dg.MaterializeResult(
                asset_key=VALIDATIONS_KEY,
                metadata={
                    "dagster/row_count": dg.MetadataValue.int(rows),
                    "suites_validated": len(outcomes),
                    "suites_failed": sum(1 for outcome in outcomes if not outcome.success),
                    "rows_evaluated": sum(outcome.rows_evaluated for outcome in outcomes),
                },
            )
        for outcome in outcomes:
            yield check_result(outcome)

    return expectation_suites


def _validation_rows(warehouse: Path) -> int:
    with duckdb.connect(str(warehouse)) as connection:
        return int(connection.execute(f"select count(*) from {SCHEMA}.suite_validations").fetchone()[0])


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
    (the distinct load ids, a few hundred) rather than once per row. A field that reads any other
    column does not bind on the load ids alone and is computed over every row, as dbt does.
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
    query per table instead of a dbt process of its own.
    """
    policies = freshness_policies(parsed_manifest(Path(manifest_path)))
    specs = [
        dg.AssetCheckSpec(
            name="source_freshness",
            asset=policy.key,
            description=f"dbt source freshness of {policy.schema}.{policy.table} on {policy.loaded_at_field}: "
            f"a warning after {(policy.warn_after_s or 0) / 3600:g} h without a load, an error after "
            f"{(policy.error_after_s or 0) / 3600:g} h.",
        )
        for policy in policies
    ]

    @dg.multi_asset_check(
        specs=specs,
        name="source_freshness",
        can_subset=True,
        pool=WAREHOUSE_POOL,
        description="dbt source freshness of the raw tables, from the dbt manifest's policies.",
    )
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


def definitions(manifest_path: Path) -> dg.Definitions:
    """The suites' step and the freshness checks."""
    return dg.Definitions(assets=[build_suites_asset()], asset_checks=[build_freshness_checks(manifest_path)])
