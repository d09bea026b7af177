"""``spm report``: the monthly pack (``reporting``), from the serving file BI tools read."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from core import settings
from spm.output import fail, say


def cmd_report(args: argparse.Namespace) -> int:
    """Write one month's pack (HTML and PDF) from the serving file."""
    from reporting.errors import ReportError
    from reporting.pack import build_pack, latest_month
    from reporting.queries import parse_month

    serving = Path(args.serving).resolve() if args.serving else settings.serving_path(Path(args.warehouse))
    try:
        month = parse_month(args.month) if args.month else latest_month(serving)
        pack = build_pack(serving, month, Path(args.out).resolve(), pdf=not args.no_pdf)
    except ReportError as exc:
        return fail("report", str(exc))
    publication = pack.data.publication
    say(
        f"Monthly pack {pack.data.label} (data as of {publication.as_of or 'unknown'}, "
        f"run {publication.run_id or '(none)'}) in {pack.seconds:.1f} s"
    )
    say(f"HTML: {pack.html}")
    if pack.pdf is not None:
        say(f"PDF:  {pack.pdf}")
    for problem in pack.problems:
        fail("report", problem, status=1)
    return 1 if pack.problems else 0


def pack_after(definitions: Any, command: str, quiet: bool = False, verbose: bool = False) -> str:
    """Run ``monthly_pack_job`` after a publish `spm` made (unless ``SPM_MONTHLY_PACK=off``);
    the line to print: where the pack is, why it was not written, or why it failed. A pack that
    fails does not fail the run it follows: the warehouse and the serving file are complete."""
    if not settings.monthly_pack_after_runs():
        return ""
    from orchestration.defs.reporting import PACK_KEY, PACK_STEP, SKIPPED
    from spm.job_runner import run_job
    from spm.run_summary import root_cause

    run = run_job(definitions, "monthly_pack_job", command, quiet=quiet, verbose=verbose)
    for event in run.result.all_events:
        if event.event_type_value == "STEP_FAILURE":
            error = event.event_specific_data
            described = error.user_failure_data.description if error.user_failure_data is not None else None
            return f"Monthly pack FAILED: {described or root_cause(error.error)} (log: {run.log_path})"
        if event.event_type_value == "ASSET_OBSERVATION":
            observation = event.event_specific_data.asset_observation
            if observation.asset_key == PACK_KEY and SKIPPED in observation.metadata:
                return f"Monthly pack not written: {observation.metadata[SKIPPED].value}"
    for materialization in run.result.asset_materializations_for_node(PACK_STEP):
        metadata = {key: getattr(value, "value", value) for key, value in materialization.metadata.items()}
        return f"Monthly pack {metadata['month']}: {metadata['html']}" + (
            " (and PDF)" if "pdf" in metadata else " (no PDF: see the log)"
        )
    return f"Monthly pack not written (log: {run.log_path})"


def add_report_commands(commands: argparse._SubParsersAction, formatter: type[argparse.HelpFormatter]) -> None:
    """Register ``report`` on the ``spm`` parser."""
    text = "write the monthly pack (HTML and PDF: charts, KPIs, data quality) of a month from the serving file"
    report = commands.add_parser("report", help=text, description=text, formatter_class=formatter)
    report.add_argument(
        "month", nargs="?", default=None, help="the month, YYYY-MM (default: the as-of month of the published data)"
    )
    report.add_argument("--out", default=str(settings.data_dir() / "reports"), help="folder to write the pack into")
    report.add_argument("--warehouse", default=str(settings.warehouse_path()), help="DuckDB warehouse file")
    report.add_argument(
        "--serving",
        default=None,
        help="serving DuckDB file to read (default: SPM_SERVING, else serving.duckdb beside the warehouse)",
    )
    report.add_argument("--no-pdf", action="store_true", help="write the HTML only")
    report.set_defaults(func=cmd_report)
