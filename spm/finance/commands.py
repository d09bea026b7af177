"""The finance sub-commands of ``spm``: close-period, reopen-period, statements, export-payouts."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from spm import settings
from spm.finance.periods import FinanceError


def cmd_close_period(args: argparse.Namespace) -> int:
    """Freeze a period's payout lines into the ledger."""
    from spm.finance.ledger import close_period

    result = close_period(Path(args.warehouse).resolve(), args.period, acted_by=args.by)
    print(result.message)
    return 0


def cmd_reopen_period(args: argparse.Namespace) -> int:
    """Reopen the latest closed period, with a reason kept in the ledger."""
    from spm.finance.ledger import reopen_period

    print(reopen_period(Path(args.warehouse).resolve(), args.period, args.reason, acted_by=args.by).message)
    return 0


def cmd_statements(args: argparse.Namespace) -> int:
    """Write one statement per rep for a period."""
    from spm.finance.statements import write_statements

    written = write_statements(Path(args.warehouse).resolve(), args.period, Path(args.out).resolve())
    for statement in written:
        print(f"{statement.csv_path.name}: {statement.total} {statement.currency} ({statement.status})")
    print(f"{len(written)} statements for {args.period} in {Path(args.out).resolve()}")
    return 0


def cmd_export_payouts(args: argparse.Namespace) -> int:
    """Write the payroll file of a closed period."""
    from spm.finance.payroll import export_payouts

    count, totals = export_payouts(Path(args.warehouse).resolve(), args.period, Path(args.out).resolve())
    amounts = ", ".join(f"{amount} {currency}" for currency, amount in sorted(totals.items()))
    print(f"{count} payouts for {args.period} written to {Path(args.out).resolve()} (total {amounts or '0'})")
    return 0


def guarded(command):
    """Turn a FinanceError into a one-line message and exit status 2."""

    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except FinanceError as exc:
            print(f"spm {args.command}: {exc}", file=sys.stderr)
            return 2

    return run


def add_finance_commands(commands: argparse._SubParsersAction) -> None:
    """Register the finance sub-commands on the ``spm`` parser."""
    warehouse = {"default": str(settings.warehouse_path()), "help": "DuckDB warehouse"}

    close = commands.add_parser("close-period", help="close a commission period (freeze its lines in the ledger)")
    close.add_argument("period", help="YYYY-MM")
    close.add_argument("--by", default=None, help="who closes (default: the OS user)")
    close.add_argument("--warehouse", **warehouse)
    close.set_defaults(func=guarded(cmd_close_period))

    reopen = commands.add_parser("reopen-period", help="reopen the latest closed period (logged, new version)")
    reopen.add_argument("period", help="YYYY-MM")
    reopen.add_argument("--reason", required=True, help="why (kept in the ledger)")
    reopen.add_argument("--by", default=None, help="who reopens (default: the OS user)")
    reopen.add_argument("--warehouse", **warehouse)
    reopen.set_defaults(func=guarded(cmd_reopen_period))

    statements = commands.add_parser("statements", help="write one commission statement per rep (CSV and HTML)")
    statements.add_argument("period", help="YYYY-MM")
    statements.add_argument("--out", required=True, help="folder to write")
    statements.add_argument("--warehouse", **warehouse)
    statements.set_defaults(func=guarded(cmd_statements))

    export = commands.add_parser("export-payouts", help="write the payroll file of a closed period")
    export.add_argument("period", help="YYYY-MM")
    export.add_argument("--out", required=True, help="CSV file to write")
    export.add_argument("--warehouse", **warehouse)
    export.set_defaults(func=guarded(cmd_export_payouts))
