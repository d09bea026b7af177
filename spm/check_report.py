"""The table `spm check` prints: every check of a run, grouped by kind, problems first."""

from __future__ import annotations

from collections import Counter

import dagster as dg

from spm.run_summary import root_cause


def check_kind(check_name: str) -> str:
    """``suite`` (Great Expectations), ``freshness`` (dbt source freshness) or ``dbt test``."""
    if check_name.startswith("gx_"):
        return "suite"
    if check_name == "source_freshness":
        return "freshness"
    return "dbt test"


def render_check_table(result: dg.ExecuteInProcessResult, only_problems: bool = True) -> tuple[str, int]:
    """The check table of a finished run and the number of failed (ERROR) checks."""
    rows = []
    for event in result.all_events:
        if event.event_type_value != "ASSET_CHECK_EVALUATION":
            continue
        evaluation = event.asset_check_evaluation_data
        if evaluation.passed:
            outcome = "pass"
        elif evaluation.severity == dg.AssetCheckSeverity.WARN:
            outcome = "WARN"
        else:
            outcome = "FAIL"
        rows_evaluated = evaluation.metadata.get("rows_evaluated")
        rows.append(
            (
                outcome,
                check_kind(evaluation.check_name),
                evaluation.asset_key.to_user_string(),
                evaluation.check_name,
                "" if rows_evaluated is None else f"{int(rows_evaluated.value):,}",
                (evaluation.description or "").splitlines()[0][:100] if evaluation.description else "",
            )
        )
    order = {"FAIL": 0, "WARN": 1, "pass": 2}
    rows.sort(key=lambda r: (order[r[0]], r[1], r[2], r[3]))
    counts = Counter((r[1], r[0]) for r in rows)
    kinds = sorted({r[1] for r in rows})
    lines = ["", "kind       checks  passed  warned  failed"]
    for kind in kinds:
        passed, warned, failed = (counts[(kind, o)] for o in ("pass", "WARN", "FAIL"))
        lines.append(f"{kind:<10} {passed + warned + failed:>6}  {passed:>6}  {warned:>6}  {failed:>6}")
    shown = [r for r in rows if r[0] != "pass"] if only_problems else rows
    if shown:
        header = ("result", "kind", "asset", "check", "rows", "detail")
        widths = [max(len(str(r[i])) for r in [header, *shown]) for i in range(5)]
        lines += ["", "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=False)) + "  detail"]
        for row in shown:
            lines.append("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=False)) + "  " + row[5])
    elif rows:
        lines.append("\nEvery check passed.")
    failures = sum(1 for r in rows if r[0] == "FAIL")
    step_errors = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    if step_errors:
        lines.append("\nNo check ran: " if not rows else "\nA step failed, so some checks did not run:")
        for event in step_errors:
            lines.append(f"  {event.step_key}: {root_cause(event.event_specific_data.error)}")
    return "\n".join(lines), failures + len(step_errors)
