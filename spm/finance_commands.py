"""The finance sub-commands of ``spm``: close-period, reopen-period, statements, export-payouts, explain.

A close or reopen runs the Dagster job ``close_period_job`` (the ledger step, then the models that
read the ledger through the dbt assets), recorded in the instance `spm ui` shows, like the
``monthly_close`` schedule's runs. Statements and the payroll file only read the warehouse.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from core import settings
from finance.periods import FinanceError, parse_as_of, parse_period
from spm.output import fail, say


def _ledger_job(args: argparse.Namespace, action: str, reason: str = "", accept_change: str = "") -> int:
    """Run close_period_job for one action; print what the ledger step did and what was rebuilt."""
    import dagster as dg

    warehouse = Path(args.warehouse).resolve()
    through = getattr(args, "through", None)
    from orchestration.dbt_manifest import ManifestError, ensure_manifest
    from orchestration.definitions import build_definitions
    from orchestration.defs.finance import LEDGER_EVENTS, LEDGER_STEP
    from spm.job_runner import run_job
    from spm.report_commands import pack_after
    from spm.run_summary import root_cause
    from spm.serving_commands import publish_after

    try:
        ensure_manifest(warehouse)
    except ManifestError as exc:
        return fail(args.command, str(exc), status=1)
    config: dict[str, Any] = {"action": action, "acted_by": args.by or _who()}
    if through:
        config["through"] = parse_period(through)
    else:
        config["period"] = parse_period(args.period)
    for option in ("as_of", "force"):
        if getattr(args, option, None):
            config[option] = getattr(args, option).strip()
    if reason:
        config["reason"] = reason
    if accept_change:
        config["accept_change"] = accept_change
    definitions = build_definitions(warehouse=warehouse)
    run = run_job(
        definitions,
        "close_period_job",
        args.command,
        {"ops": {LEDGER_STEP: {"config": config}}},
        quiet=args.quiet,
        verbose=args.verbose,
    )
    result = run.result
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE" and event.step_key == LEDGER_STEP:
            error = event.event_specific_data
            refused = error.user_failure_data is not None and "refused" in (error.user_failure_data.metadata or {})
            message = error.user_failure_data.description if refused else root_cause(error.error)
            if refused:
                raise FinanceError(message)
            say(f"Error: {message}\nLog: {run.log_path}")
            return 1
    materializations = [
        event.step_materialization_data.materialization
        for event in result.all_events
        if event.event_type_value == "ASSET_MATERIALIZATION"
    ]
    ledger = [m for m in materializations if m.asset_key == LEDGER_EVENTS]
    stopped = bool(ledger) and "stopped_at" in ledger[0].metadata
    if ledger:
        say(str(ledger[0].metadata["message"].value))
    failed = [
        f"{e.asset_key.to_user_string()}:{e.check_name}"
        for e in result.get_asset_check_evaluations()
        if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR
    ]
    rebuilt = len([m for m in materializations if m.asset_key.path[0] != "ledger"])
    say(
        f"Finance models rebuilt: {rebuilt}; checks failed: {len(failed)}"
        + (f" ({', '.join(failed[:5])})" if failed else "")
    )
    if not result.success:
        errors = [
            root_cause(e.event_specific_data.error) for e in result.all_events if e.event_type_value == "STEP_FAILURE"
        ]
        say("\n".join(f"Error: {message}" for message in errors) or "Error: the run failed")
        say("The ledger was written; run `spm run` to rebuild the finance models.")
    published = True
    if result.success:
        outcome = publish_after(definitions, run, args.command, quiet=args.quiet, verbose=args.verbose)
        say(outcome.line())
        published = not outcome.error
        pack = pack_after(definitions, args.command, quiet=args.quiet, verbose=args.verbose) if published else ""
        if pack:
            say(pack)
    if stopped:
        say(f"Error: not every period through {through} was closed: {ledger[0].metadata['not_closed'].value}")
    say(f"Log: {run.log_path}\nDagster run {run.run_id} (`spm ui` shows it)")
    return 0 if result.success and published and not failed and not stopped else 1


def _who() -> str:
    import getpass

    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


def cmd_close_period(args: argparse.Namespace) -> int:
    """Freeze a period's payout lines (or every open period's through one) into the ledger, then
    rebuild the models the ledger feeds."""
    return _ledger_job(args, "close", accept_change=args.accept_change or "")


def cmd_reopen_period(args: argparse.Namespace) -> int:
    """Reopen the latest closed period, with a reason kept in the ledger (checked by :func:`guarded`)."""
    return _ledger_job(args, "reopen", args.reason)


def cmd_statements(args: argparse.Namespace) -> int:
    """Write one statement per rep for a period (CSV, HTML and PDF)."""
    from finance.statements import write_statements

    written = write_statements(
        Path(args.warehouse).resolve(), args.period, Path(args.out).resolve(), pdf=not args.no_pdf
    )
    for statement in written:
        say(f"{statement.html_path.stem}: {statement.total} {statement.currency} ({statement.status})")
    kinds = "CSV and HTML" if args.no_pdf else "CSV, HTML and PDF"
    say(f"{len(written)} statements for {args.period} ({kinds}) in {Path(args.out).resolve()}")
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    """Print the chain behind each payout line of a rep's month (mart_payout_lineage)."""
    from finance.explain import explain

    say(explain(Path(args.warehouse).resolve(), args.rep, args.period, args.deal).text)
    return 0


def cmd_export_payouts(args: argparse.Namespace) -> int:
    """Write the payroll file of a closed period and its control file."""
    from finance.payroll import export_payouts

    export = export_payouts(
        Path(args.warehouse).resolve(), args.period, Path(args.out).resolve(), include_zero=args.include_zero
    )
    for line in export.left_out:
        say(f"Left out: {line}")
    amounts = ", ".join(f"{total.net} {currency}" for currency, total in sorted(export.totals.items()))
    say(
        f"{export.row_count} payroll rows for {args.period} written to {export.path} (net {amounts or '0'}); "
        f"control file {export.control_path.name}"
    )
    return 0


def _check_periods(args: argparse.Namespace) -> None:
    """The period (or, for a close, ``--through``) is a month; a close gets exactly one of them,
    a valid ``--as-of`` and a ``--force`` with a reason."""
    through = getattr(args, "through", None)
    if args.command == "close-period" and (args.period is None) == (through is None):
        raise FinanceError("give the period to close (YYYY-MM) or --through YYYY-MM, not both")
    parse_period(through if args.period is None else args.period)
    if getattr(args, "as_of", None) is not None:
        if not args.as_of.strip():
            raise FinanceError("--as-of needs a date written as YYYY-MM-DD")
        parse_as_of(args.as_of)
    if getattr(args, "force", None) is not None and not args.force.strip():
        raise FinanceError("--force needs a reason (it is kept in the ledger)")


def guarded(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Turn a FinanceError into a one-line message and exit status 2."""

    def run(args: argparse.Namespace) -> int:
        try:
            _check_periods(args)
            if getattr(args, "reason", None) is not None and not args.reason.strip():
                raise FinanceError("reopening a period needs a reason (it is kept in the ledger)")
            if getattr(args, "accept_change", None) is not None and not args.accept_change.strip():
                raise FinanceError("--accept-change needs a reason (it is kept in the ledger)")
            if not Path(args.warehouse).resolve().is_file():
                raise FinanceError(
                    f"no warehouse at {Path(args.warehouse).resolve()}: run `spm run` first, or pass --warehouse"
                )
            return command(args)
        except FinanceError as exc:
            return fail(args.command, str(exc))
        except duckdb.Error as exc:  # the warehouse is busy (a run writing it) or not a warehouse
            return fail(args.command, f"cannot read {args.warehouse}: {str(exc).strip().splitlines()[0]}")

    return run


def add_finance_commands(commands: argparse._SubParsersAction, formatter: type[argparse.HelpFormatter]) -> None:
    """Register the finance sub-commands on the ``spm`` parser."""
    warehouse = {"default": str(settings.warehouse_path()), "help": "DuckDB warehouse file"}

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=help_text, description=help_text, formatter_class=formatter)

    def output_options(parser: argparse.ArgumentParser) -> None:
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--quiet", action="store_true", help="print only the outcome (no step lines)")
        group.add_argument("--verbose", action="store_true", help="show Dagster's and dbt's log lines live")

    close = command(
        "close-period",
        "close a commission period, or every open period through one: freeze its payout lines in the ledger",
    )
    close.add_argument("period", nargs="?", default=None, help="the period, YYYY-MM (or --through)")
    close.add_argument(
        "--through",
        metavar="YYYY-MM",
        default=None,
        help="close every open period up to this one, in order, one transaction each; stops at the first that "
        "cannot be closed (periods before the go-live month are history and skipped)",
    )
    close.add_argument(
        "--as-of",
        metavar="YYYY-MM-DD",
        default=None,
        help="the close's date (default: today, UTC): a period that has not ended by then is refused",
    )
    close.add_argument(
        "--force",
        metavar="REASON",
        default=None,
        help="close a period before it has ended; the reason is kept in the ledger with who and when",
    )
    close.add_argument("--by", default=None, help="who closes (default: the OS user)")
    close.add_argument(
        "--accept-change",
        metavar="REASON",
        default=None,
        help="close although net payouts moved by more than the threshold since a previous run "
        "(the run summary listed them); the reason is kept in the ledger",
    )
    close.add_argument("--warehouse", **warehouse)
    output_options(close)
    close.set_defaults(func=guarded(cmd_close_period))

    reopen = command("reopen-period", "reopen the latest closed period (logged; the next close is a new version)")
    reopen.add_argument("period", help="the period, YYYY-MM")
    reopen.add_argument("--reason", required=True, help="why (kept in the ledger)")
    reopen.add_argument("--by", default=None, help="who reopens (default: the OS user)")
    reopen.add_argument("--warehouse", **warehouse)
    output_options(reopen)
    reopen.set_defaults(func=guarded(cmd_reopen_period))

    statements = command("statements", "write one commission statement per rep (CSV, HTML and PDF)")
    statements.add_argument("period", help="the period, YYYY-MM")
    statements.add_argument("--out", required=True, help="folder to write")
    statements.add_argument("--no-pdf", action="store_true", help="write CSV and HTML only")
    statements.add_argument("--warehouse", **warehouse)
    statements.set_defaults(func=guarded(cmd_statements))

    export = command("export-payouts", "write the payroll file of a closed period, with its control file")
    export.add_argument("period", help="the period, YYYY-MM")
    export.add_argument("--out", required=True, help="file to write: .csv or .xlsx (the control file goes beside it)")
    export.add_argument("--include-zero", action="store_true", help="keep rows whose amount is 0")
    export.add_argument("--warehouse", **warehouse)
    export.set_defaults(func=guarded(cmd_export_payouts))

    explain = command(
        "explain",
        "print the chain behind each payout line of a rep's month: deal version and its file and line, credit and "
        "split row, quota and attainment, band, rate and rule with the plan's file:line, what an adjustment corrects",
    )
    explain.add_argument("--rep", required=True, metavar="EMPLOYEE_ID", help="the rep's HRIS employee id")
    explain.add_argument("--period", required=True, metavar="YYYY-MM", help="the commission period")
    explain.add_argument("--deal", default=None, metavar="DEAL_ID", help="only the lines that pay or correct this deal")
    explain.add_argument("--warehouse", **warehouse)
    explain.set_defaults(func=guarded(cmd_explain))
