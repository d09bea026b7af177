"""Following a Dagster run from the command line: progress lines and the closing summary."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.assets.dbt_models import FINANCE_HELD_BACK

#: The Dagster step that builds the finance models (dbt tag ``finance``).
FINANCE_STEP = "dbt_finance"


@dataclass
class RunSummary:
    """What a run did, read from its events."""

    success: bool
    elapsed_s: float
    rows_loaded: dict[str, int] = field(default_factory=dict)
    models_built: list[str] = field(default_factory=list)
    checks_passed: int = 0
    checks_failed: list[str] = field(default_factory=list)
    checks_warned: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    plan_problems: list[str] = field(default_factory=list)
    rejected_at_load: dict[str, int] = field(default_factory=dict)
    check_details: dict[str, str] = field(default_factory=dict)
    finance_held_back: list[str] = field(default_factory=list)
    rejects: list[tuple[str, str, int]] = field(default_factory=list)

    def render(self) -> str:
        """A short, human-readable report."""
        lines = ["", "Run " + ("succeeded" if self.success else "FAILED") + f" in {self.elapsed_s:.1f} s"]
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
        total = self.checks_passed + len(self.checks_failed)
        lines.append(f"Checks: {self.checks_passed} of {total} passed, {len(self.checks_failed)} failed")
        for label, names in (("failed", self.checks_failed), ("warning", self.checks_warned)):
            for name in names:
                detail = self.check_details.get(name)
                lines.append(f"  {label}: {name}" + (f" - {detail}" if detail else ""))
        if self.rejects:
            lines.append("Rows kept out of staging (schema rejects, with reason, file and line):")
            lines += [f"  {entity}: {rows:,} {reason}" for entity, reason, rows in self.rejects[:20]]
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
        return "\n".join(lines)


def summarise(result: dg.ExecuteInProcessResult, started: float) -> RunSummary:
    """Collect rows loaded, models built, check outcomes and errors from a finished run."""
    summary = RunSummary(success=result.success, elapsed_s=time.monotonic() - started)
    blocking_failures: list[str] = []
    gate_failures: list[str] = []
    # A step Dagster skips for a failed blocking check leaves no event of its own: ask the job.
    finance_planned = FINANCE_STEP in {node.name for node in result.job_def.nodes}
    finance_built = False
    for event in result.all_events:
        if event.step_key == FINANCE_STEP:
            finance_built = finance_built or event.event_type_value == "STEP_SUCCESS"
        if event.event_type_value == "ASSET_MATERIALIZATION":
            materialization = event.step_materialization_data.materialization
            key = materialization.asset_key.to_user_string()
            rows = materialization.metadata.get("rows_loaded")
            if rows is not None and key.endswith("_rejected"):
                if int(rows.value):
                    summary.rejected_at_load[key] = int(rows.value)
            elif rows is not None:
                summary.rows_loaded[key] = int(rows.value)
            elif not key.startswith("raw_"):
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
                if evaluation.blocking:
                    blocking_failures.append(name)
        elif event.event_type_value == "STEP_FAILURE":
            error = event.event_specific_data.error
            message = str(getattr(error, "message", ""))
            if FINANCE_HELD_BACK in message:  # the finance gate refused: its checks are reported above
                gate_failures += message.split(FINANCE_HELD_BACK + ": ", 1)[-1].strip().splitlines()[0].split(", ")
            elif getattr(error, "cls_name", "") != "DagsterAssetCheckFailedError":  # reported with its check
                summary.errors.append(root_cause(error))
    if finance_planned and not finance_built:
        summary.finance_held_back = sorted(set(blocking_failures + gate_failures)) or ["an upstream step failed"]
    return summary


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


def rejected_rows(warehouse: Path) -> list[tuple[str, str, int]]:
    """(entity, reason, rows) currently kept out of staging, from the ``rejects`` tables."""
    if not warehouse.exists():
        return []
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        views = [
            row[0]
            for row in connection.execute(
                "select table_name from information_schema.tables where table_schema = 'rejects' order by 1"
            ).fetchall()
        ]
        if not views:
            return []
        union = " union all ".join(f"select entity, reason from rejects.{view}" for view in views)
        rows = connection.execute(
            f"select entity, reason, count(*) from ({union}) group by 1, 2 order by 3 desc, 1, 2"
        ).fetchall()
    return [(entity, reason, int(count)) for entity, reason, count in rows]
