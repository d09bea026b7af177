"""Great Expectations suites (``expectations/``) and dbt source freshness as Dagster asset checks.

Each suite is a check on the staging asset of its entity; it reads the raw rows of the current
load (see ``spm.quality``). A failed critical expectation gives an ERROR result; suites marked
``blocks_finance`` are blocking, so the finance models (which depend on those staging assets)
are skipped in that run. Warnings never block.
"""

import json
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.assets.ingestion import WAREHOUSE_POOL
from orchestration.resources import WarehouseResource
from spm.quality.suites import Suite, load_suites
from spm.quality.validate import SuiteOutcome, run_suite


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


def build_suite_checks() -> dg.AssetChecksDefinition:
    """One check per suite, in one op (GX is imported once), subsettable from the UI."""
    suites = {dg.AssetCheckKey(dg.AssetKey(list(s.asset)), s.check_name): s for s in load_suites()}

    @dg.multi_asset_check(
        specs=[_spec(suite) for suite in suites.values()],
        name="expectation_suites",
        can_subset=True,
        pool=WAREHOUSE_POOL,
        description="Great Expectations suites of expectations/ on the rows of the current load.",
    )
    def expectation_suites(
        context: dg.AssetCheckExecutionContext, config: SuiteRunConfig, warehouse: WarehouseResource
    ) -> Iterator[dg.AssetCheckResult]:
        with warehouse.writing(context):
            for key, suite in suites.items():
                if key in context.selected_asset_check_keys:
                    yield check_result(run_suite(warehouse.path, suite, full=config.full, run_id=context.run.run_id))

    return expectation_suites


def freshness_sources(manifest: dict) -> list[tuple[str, str]]:
    """(source name, table) of every dbt source table with a freshness policy."""
    result = []
    for node in manifest["sources"].values():
        freshness = node.get("freshness") or {}
        if freshness.get("warn_after", {}).get("count") or freshness.get("error_after", {}).get("count"):
            result.append((node["source_name"], node["name"]))
    return sorted(result)


def build_freshness_checks(manifest_path: Path) -> dg.AssetChecksDefinition:
    """``dbt source freshness`` as one check per raw table with a freshness policy."""
    manifest = json.loads(Path(manifest_path).read_text())
    schemas = {node["source_name"]: node["schema"] for node in manifest["sources"].values()}
    tables = freshness_sources(manifest)
    specs = [
        dg.AssetCheckSpec(
            name="source_freshness",
            asset=dg.AssetKey([schemas[source], table]),
            description="dbt source freshness on the load time (warn after 24 h, error after 36 h).",
        )
        for source, table in tables
    ]

    @dg.multi_asset_check(specs=specs, name="source_freshness", can_subset=True, pool=WAREHOUSE_POOL)
    def source_freshness(
        context: dg.AssetCheckExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
    ) -> Iterator[dg.AssetCheckResult]:
        selected = {key.asset_key for key in context.selected_asset_check_keys}
        with warehouse.writing(context), warehouse.dbt_environment():
            invocation = dbt.cli(["source", "freshness"], raise_on_error=False)
            invocation.wait()
            results = json.loads((invocation.target_path / "sources.json").read_text())["results"]
        by_table = {}
        for result in results:
            source_name, table = result["unique_id"].split(".")[-2:]
            by_table[dg.AssetKey([schemas[source_name], table])] = result
        for key in sorted(selected, key=lambda k: k.to_user_string()):
            result = by_table.get(key)
            if result is None:
                yield dg.AssetCheckResult(
                    asset_key=key, check_name="source_freshness", passed=False, description="no freshness result"
                )
                continue
            status = result.get("status")
            age = result.get("max_loaded_at_time_ago_in_s")
            yield dg.AssetCheckResult(
                asset_key=key,
                check_name="source_freshness",
                passed=status == "pass",
                severity=dg.AssetCheckSeverity.WARN if status == "warn" else dg.AssetCheckSeverity.ERROR,
                metadata={
                    "status": status,
                    "max_loaded_at": str(result.get("max_loaded_at")),
                    "hours_since_last_load": round(age / 3600, 2) if age is not None else None,
                },
                description=result.get("message") or None,
            )

    return source_freshness
