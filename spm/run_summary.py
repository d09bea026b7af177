"""The summary `spm run` prints when a run ends, read from the run's events."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

from core.rejects import rejects_by_reason

#: dbt tag (and Dagster asset tag) of the commission models.
FINANCE_TAG = "finance"


@dataclass
class RunSummary:
    """What a run did, read from its events."""

    success: bool
    elapsed_s: float
    rows_loaded: dict[str, int] = field(default_factory=dict)
    models_built: list[str] = field(default_factory=list)
    models_not_built: list[str] = field(default_factory=list)
    checks_passed: int = 0
    checks_failed: list[str] = field(default_factory=list)
    checks_warned: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    plan_problems: list[str] = field(default_factory=list)
    payout_changes: list[str] = field(default_factory=list)
    rejected_at_load: dict[str, int] = field(default_factory=dict)
    check_details: dict[str, str] = field(default_factory=dict)
    finance_held_back: list[str] = field(default_factory=list)
    rejects: list[tuple[str, str, int, str]] = field(default_factory=list)
    published: str = ""
    pack: str = ""
    log_path: Path | None = None
    run_id: str = ""

    def render(self) -> str:
        """A short, human-readable report."""
        if not self.success:
            outcome = "FAILED"
        elif self.checks_failed:  # the steps ran, but what they built is not all fit for use
            outcome = f"finished with {len(self.checks_failed)} failed check(s)"
        else:
            outcome = "succeeded"
        lines = ["", f"Run {outcome} in {self.elapsed_s:.1f} s"]
        if self.rows_loaded:
            lines.append("Rows loaded:")
            by_dataset: dict[str, list[tuple[str, int]]] = defaultdict(list)
            for key, rows in sorted(self.rows_loaded.items()):
                dataset, _, table = key.partition("/")
                by_dataset[dataset].append((table, rows))
            for dataset, tables in by_dataset.items():
                body = ", ".join(f"{table} {rows:,}" for table, rows in tables)
                lines.append(f"  {dataset}: {body}")
        else:
            lines.append("Rows loaded: none (nothing new in the landing folder)")
        if self.rejected_at_load:
            body = ", ".join(f"{key} {rows:,}" for key, rows in sorted(self.rejected_at_load.items()))
            lines.append(f"Lines rejected at load (not mergeable): {body}")
        lines.append(f"Models built: {len(self.models_built)}")
        if self.models_not_built:
            names = [name.split("/")[-1] for name in self.models_not_built]
            shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
            lines.append(f"Models not rebuilt (they keep their last content): {len(names)}: {shown}")
        total = self.checks_passed + len(self.checks_failed)
        warned = f", {len(self.checks_warned)} with warnings" if self.checks_warned else ""
        lines.append(f"Checks: {self.checks_passed} of {total} passed{warned}, {len(self.checks_failed)} failed")
        for label, names in (("failed", self.checks_failed), ("warning", self.checks_warned)):
            for name in names:
                detail = self.check_details.get(name)
                lines.append(f"  {label}: {name}" + (f" - {detail}" if detail else ""))
        if self.rejects:
            lines.append("Rows kept out of staging (schema rejects, with reason, file and line):")
            lines += [
                f"  {entity}: {rows:,} {reason} - " + ("" if rows == 1 else "first: ") + example
                for entity, reason, rows, example in self.rejects[:20]
            ]
        if self.finance_held_back:
            lines.append(
                "Finance models were not rebuilt (held back by: "
                + ", ".join(self.finance_held_back[:5])
                + ("" if len(self.finance_held_back) <= 5 else ", ...")
                + "); the finance marts keep their last good content."
            )
        lines += [f"Error: {message}" for message in self.errors]
        if self.plan_problems:
            lines.append(
                f"Sales-plan inputs break {len(self.plan_problems)} rule(s); commission models were not rebuilt:"
            )
            lines += [f"  {message}" for message in self.plan_problems[:20]]
        if self.payout_changes:
            lines.append(
                f"Warning: {len(self.payout_changes)} net payout(s) of open periods changed by more than the threshold "
                "since the previous run; closing such a period needs `spm close-period YYYY-MM --accept-change REASON`:"
            )
            lines += [f"  {line}" for line in self.payout_changes[:20]]
            if len(self.payout_changes) > 20:
                lines.append("  ... (audit.payout_changes lists them all)")
        if self.published:
            lines.append(self.published)
        if self.pack:
            lines.append(self.pack)
        if self.log_path is not None:
            lines.append(f"Log: {self.log_path}")
        if self.run_id:
            lines.append(f"Dagster run {self.run_id} (`spm ui` shows it)")
        return "\n".join(lines)


def _ancestors(graph: dg.AssetGraph, keys: Iterable[dg.AssetKey]) -> set[dg.AssetKey]:
    seen: set[dg.AssetKey] = set()
    pending = [key for key in keys if graph.has(key)]
    while pending:
        for parent in graph.get(pending.pop()).parent_keys:
            if parent not in seen and graph.has(parent):
                seen.add(parent)
                pending.append(parent)
    return seen


def summarise(
    result: dg.ExecuteInProcessResult,
    elapsed_s: float,
    graph: dg.AssetGraph | None = None,
    planned: Iterable[dg.AssetKey] = (),
) -> RunSummary:
    """Collect rows loaded, models built, check outcomes and errors from a finished run.

    ``graph`` (the definitions' asset graph) and ``planned`` (the assets the job selects) let the
    summary name the dbt models the run did not rebuild and what held the finance models back.
    """
    return summarise_events(result.all_events, result.success, result.run_id, elapsed_s, graph, planned)


def summarise_recorded_run(
    instance: dg.DagsterInstance, run_id: str, graph: dg.AssetGraph | None = None, planned: Iterable[dg.AssetKey] = ()
) -> RunSummary:
    """The summary of a run recorded in ``instance`` (a run `spm` or the UI made earlier)."""
    run = instance.get_run_by_id(run_id)
    events = [record.dagster_event for record in instance.all_logs(run_id) if record.dagster_event is not None]
    success = run is not None and run.status == dg.DagsterRunStatus.SUCCESS
    return summarise_events(events, success, run_id, 0.0, graph, planned)


def summarise_events(
    events: Iterable[dg.DagsterEvent],
    success: bool,
    run_id: str,
    elapsed_s: float,
    graph: dg.AssetGraph | None = None,
    planned: Iterable[dg.AssetKey] = (),
) -> RunSummary:
    """The summary of a run from its events (see :func:`summarise`)."""
    summary = RunSummary(success=success, elapsed_s=elapsed_s, run_id=run_id)
    built: set[dg.AssetKey] = set()
    failed_checks: list[tuple[dg.AssetKey, str, bool]] = []
    for event in events:
        if event.event_type_value == "ASSET_MATERIALIZATION":
            materialization = event.step_materialization_data.materialization
            key = materialization.asset_key.to_user_string()
            built.add(materialization.asset_key)
            rows = materialization.metadata.get("rows_loaded")
            if key.startswith("raw_"):
                if rows is not None and key.endswith("_rejected"):
                    if int(rows.value):
                        summary.rejected_at_load[key] = int(rows.value)
                elif rows is not None:
                    summary.rows_loaded[key] = int(rows.value)
            elif "dagster/kind/dbt" in _tags(graph, materialization.asset_key) or (
                graph is None and not key.startswith(("quality/", "ledger/"))
            ):
                summary.models_built.append(key)
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.asset_check_evaluation_data
            name = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
            if evaluation.description and not evaluation.passed:
                summary.check_details[name] = evaluation.description.splitlines()[0][:300]
            if evaluation.passed:
                summary.checks_passed += 1
            elif evaluation.severity == dg.AssetCheckSeverity.WARN:
                summary.checks_warned.append(name)
                summary.checks_passed += 1
            else:
                summary.checks_failed.append(name)
                blocks = evaluation.metadata.get("blocks_finance")
                failed_checks.append((evaluation.asset_key, name, blocks is None or bool(blocks.value)))
        elif event.event_type_value == "STEP_FAILURE":
            error = event.event_specific_data.error
            if getattr(error, "cls_name", "") != "DagsterAssetCheckFailedError":  # reported with its check
                summary.errors.append(root_cause(error))
    if graph is not None:
        dbt_planned = [key for key in planned if "dagster/kind/dbt" in _tags(graph, key)]
        summary.models_not_built = sorted(key.to_user_string() for key in dbt_planned if key not in built)
        finance = [key for key in dbt_planned if FINANCE_TAG in _tags(graph, key)]
        unbuilt = [key for key in finance if key not in built]
        if unbuilt:
            upstream = _ancestors(graph, unbuilt)
            reasons = sorted(
                name
                for key, name, blocks in failed_checks
                if blocks and not name.endswith(":source_freshness") and key in upstream
            )
            if not reasons:
                reasons = ["a failed step (see the error below)"] if summary.errors else ["see the log"]
            summary.finance_held_back = reasons
    return summary


def published_line(metadata: dict[str, Any]) -> str:
    """``Published for BI tools: N tables, R rows -> <serving file>`` from the publish's metadata."""
    value = {key: getattr(item, "value", item) for key, item in metadata.items()}
    kept = value.get("kept_from_previous") or []
    return (
        f"Published for BI tools: {value.get('tables')} tables, {int(value.get('dagster/row_count') or 0):,} rows "
        f"-> {value.get('path')}" + (f" (previous copy kept, not validated: {', '.join(kept)})" if kept else "")
    )


def _tags(graph: dg.AssetGraph | None, key: dg.AssetKey) -> dict[str, str]:
    if graph is None or not graph.has(key):
        return {}
    return dict(graph.get(key).tags or {})


def root_cause(error: object) -> str:
    """The message that explains a step failure.

    An input error (``IngestionError``, naming file, line and field) anywhere in the chain wins;
    otherwise the innermost explicit cause.
    """
    chain = []
    seen: set[int] = set()
    pending = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        chain.append(current)
        pending += [getattr(current, "context", None), getattr(current, "cause", None)]
    for item in chain:
        if getattr(item, "cls_name", "") in {"IngestionError", "LandingFolderError"}:
            return _first_line(item)
    innermost = error
    while getattr(innermost, "cause", None) is not None:
        innermost = innermost.cause
    return _first_line(innermost)


def _first_line(error: object) -> str:
    message = str(getattr(error, "message", error)).strip()
    return message.splitlines()[0] if message else message


def rejected_rows(warehouse: Path) -> list[tuple[str, str, int, str]]:
    """(entity, reason, rows, first) currently kept out of staging, from the ``rejects`` tables;
    ``first`` names the record, file and line of the first such row (``record 512 at FILE:LINE``)."""
    if not warehouse.exists():
        return []
    try:
        return _rejected_rows(warehouse)
    except duckdb.Error:  # another process opened the warehouse since: the rejects are for another time
        return []


def _rejected_rows(warehouse: Path) -> list[tuple[str, str, int, str]]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return rejects_by_reason(connection)
