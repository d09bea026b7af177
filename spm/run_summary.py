"""Following a Dagster run from the command line: progress lines and the closing summary."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field

import dagster as dg


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
        lines.append(f"Models built: {len(self.models_built)}")
        total = self.checks_passed + len(self.checks_failed)
        lines.append(f"Checks: {self.checks_passed} of {total} passed, {len(self.checks_failed)} failed")
        lines += [f"  failed: {name}" for name in self.checks_failed]
        lines += [f"  warning: {name}" for name in self.checks_warned]
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
    for event in result.all_events:
        if event.event_type_value == "ASSET_MATERIALIZATION":
            materialization = event.step_materialization_data.materialization
            key = materialization.asset_key.to_user_string()
            rows = materialization.metadata.get("rows_loaded")
            if rows is not None:
                summary.rows_loaded[key] = int(rows.value)
            elif not key.startswith("raw_"):
                summary.models_built.append(key)
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.asset_check_evaluation_data
            name = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
            if evaluation.passed:
                summary.checks_passed += 1
            elif evaluation.severity == dg.AssetCheckSeverity.WARN:
                summary.checks_warned.append(name)
                summary.checks_passed += 1
            else:
                summary.checks_failed.append(name)
        elif event.event_type_value == "STEP_FAILURE":
            summary.errors.append(root_cause(event.event_specific_data.error))
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
