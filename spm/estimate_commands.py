"""`spm estimate`: what a rep would earn with hypothetical won deals (finance/estimate.py).

Each hypothetical deal is a group of options starting with ``--deal-amount``; the options after it
(``--close-date``, ``--split``, ``--deal-type``, ``--currency``, ``--pipeline``, ``--term``)
describe that deal. Read-only on the warehouse; no Dagster.
"""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import duckdb

from core import settings
from finance.estimate import EstimateError, HypotheticalDeal
from spm.output import fail, say

#: The option of a deal group -> the HypotheticalDeal field it sets.
DEAL_OPTIONS = {
    "--close-date": "close_date",
    "--split": "split_pct",
    "--deal-type": "deal_type",
    "--currency": "currency",
    "--pipeline": "pipeline",
    "--term": "contract_term_months",
}

DEAL_OPTION_HELP = {
    "--close-date": ("YYYY-MM-DD", "its close date (required)"),
    "--split": ("PCT", "the rep's share of its revenue credit (default 100)"),
    "--deal-type": ("TYPE", "the CRM deal type (default newbusiness)"),
    "--currency": ("CODE", "currency of the amount (default: the rep's plan currency)"),
    "--pipeline": ("ID", "the CRM pipeline (default default)"),
    "--term": ("MONTHS", "contract term in months (default none)"),
}


class _StartDeal(argparse.Action):
    """``--deal-amount`` opens a new deal group."""

    def __call__(self, parser: Any, namespace: Any, values: Any, option_string: str | None = None) -> None:
        deals = list(getattr(namespace, "deals", None) or [])
        deals.append({"amount": values})
        namespace.deals = deals


class _DealOption(argparse.Action):
    """An option of the latest deal group; one given before any ``--deal-amount`` is an error."""

    def __call__(self, parser: Any, namespace: Any, values: Any, option_string: str | None = None) -> None:
        deals = getattr(namespace, "deals", None) or []
        if not deals:
            parser.error(f"{option_string} belongs to a deal: give --deal-amount first")
        if DEAL_OPTIONS[option_string or ""] in deals[-1]:
            parser.error(f"{option_string} given twice for deal {len(deals)}: start the next deal with --deal-amount")
        deals[-1][DEAL_OPTIONS[option_string or ""]] = values


def _deal(number: int, given: dict[str, str]) -> HypotheticalDeal:
    """The HypotheticalDeal of one option group; a value that does not parse is an EstimateError."""
    where = f"deal {number}"
    try:
        amount = Decimal(given["amount"].replace(",", "").replace("_", ""))
    except InvalidOperation:
        raise EstimateError(f"{where}: --deal-amount {given['amount']!r} is not a number") from None
    if "close_date" not in given:
        raise EstimateError(f"{where}: --close-date is missing (YYYY-MM-DD)")
    try:
        close_date = dt.date.fromisoformat(given["close_date"].strip())
    except ValueError:
        raise EstimateError(
            f"{where}: --close-date {given['close_date']!r} is not a date written as YYYY-MM-DD"
        ) from None
    fields: dict[str, Any] = {"amount": amount, "close_date": close_date}
    if "split_pct" in given:
        try:
            fields["split_pct"] = Decimal(given["split_pct"].rstrip("%").strip())
        except InvalidOperation:
            raise EstimateError(f"{where}: --split {given['split_pct']!r} is not a percentage such as 50") from None
    if "contract_term_months" in given:
        if not given["contract_term_months"].strip().isdigit():
            raise EstimateError(f"{where}: --term {given['contract_term_months']!r} is not a number of months")
        fields["contract_term_months"] = int(given["contract_term_months"])
    if "currency" in given:
        fields["currency"] = given["currency"].strip().upper()
    for name in ("deal_type", "pipeline"):
        if name in given:
            fields[name] = given[name].strip()
    return HypotheticalDeal(**fields)


def parse_deals(groups: Sequence[dict[str, str]]) -> list[HypotheticalDeal]:
    """The hypothetical deals of the command line's option groups."""
    return [_deal(number, given) for number, given in enumerate(groups, start=1)]


def cmd_estimate(args: argparse.Namespace) -> int:
    """Print the rep's earnings in each deal's period and fiscal year to date, without and with the deals."""
    from finance.estimate import estimate

    try:
        deals = parse_deals(args.deals or [])
        say(estimate(Path(args.warehouse).resolve(), args.rep, deals).text)
    except EstimateError as exc:
        return fail(args.command, str(exc))
    except duckdb.Error as exc:  # the warehouse is busy (a run writing it) or not a warehouse
        return fail(args.command, f"cannot read {args.warehouse}: {str(exc).strip().splitlines()[0]}")
    return 0


def add_estimate_command(commands: argparse._SubParsersAction, formatter: type[argparse.HelpFormatter]) -> None:
    """Register `spm estimate` on the ``spm`` parser."""
    help_text = (
        "what a rep would earn with hypothetical won deals: the deal's period and fiscal year to date, without and "
        "with them, line by line (band, rate, multiplier, cap, gate), by the commission models run on a copy of the "
        "warehouse (nothing is written to it)"
    )
    parser = commands.add_parser("estimate", help=help_text, description=help_text, formatter_class=formatter)
    parser.add_argument(
        "--rep", required=True, metavar="EMPLOYEE_ID", help="the rep's HRIS employee id", default=argparse.SUPPRESS
    )
    parser.add_argument(
        "--deal-amount",
        action=_StartDeal,
        metavar="AMOUNT",
        default=argparse.SUPPRESS,
        help="starts a hypothetical won deal (repeat for more deals); the options below describe the latest one",
    )
    for option, (metavar, help_text) in DEAL_OPTION_HELP.items():
        parser.add_argument(option, action=_DealOption, metavar=metavar, help=help_text, default=argparse.SUPPRESS)
    parser.add_argument("--warehouse", default=str(settings.warehouse_path()), help="DuckDB warehouse file")
    parser.set_defaults(func=cmd_estimate, deals=[])
