"""What-if earnings estimates: what a rep would earn with hypothetical won deals (`spm estimate`).

The plan logic is the engine's own: the warehouse is copied (checkpointed, under the write lock,
as `spm backup` copies it) into a temporary folder; the hypothetical deals are added there as won
deals of the rep (``fct_deals`` rows, and a revenue split row when the rep's share is not 100 %;
macro ``estimate_add_hypothetical_deals``, run with ``dbt run-operation``), and the commission
models from ``int_deal_credits_allocated`` to ``int_payout_lines_computed`` (credits, bands,
rates, caps, gates, multipliers, SPIFs) are run on the copy with dbt's programmatic runner. The
payout scope re-derives only the employees the new credits touch. The rep's payout lines are read
from the copy before ("without") and after ("with"); the copy is then deleted. Nothing is written
to the warehouse.

Dagster-free: a notebook or BI tool calls :func:`estimate`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import yaml

from core import settings
from finance.periods import FinanceError, ledger_ready, period_states

#: The commission models an estimate runs on the copy, in the order dbt runs them.
ENGINE_MODELS = (
    "int_deal_credits_allocated",
    "int_payout_scope_detected",
    "fct_credits",
    "int_commission_lines_tiered",
    "int_bonus_lines_applied",
    "int_clawback_lines_posted",
    "int_payout_lines_computed",
)
LINES = "intermediate.int_payout_lines_computed"
#: The folder this package is imported from, for the child process (a notebook may have put it on
#: sys.path by hand).
ROOT = str(Path(__file__).resolve().parent.parent)
CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")


class EstimateError(FinanceError):
    """An estimate that cannot be made; the message names the input that is wrong."""


@dataclass(frozen=True)
class HypotheticalDeal:
    """A deal the rep might win: its amount (in ``currency``, default the rep's plan currency),
    close date, the rep's share of its revenue credit, deal type, pipeline and contract term."""

    amount: Decimal
    close_date: dt.date
    split_pct: Decimal = Decimal(100)
    deal_type: str = "newbusiness"
    currency: str | None = None
    pipeline: str = "default"
    contract_term_months: int | None = None


@dataclass(frozen=True)
class EstimateLine:
    """One payout line of the rep, as the engine computes it."""

    period_month: str
    deal_id: str | None
    is_hypothetical: bool
    line_type: str
    component_id: str | None
    tier_number: int | None
    rate: Decimal | None
    credited_amount: Decimal | None
    band_amount: Decimal | None
    rule_applied: str | None
    amount: Decimal
    currency_code: str


def _totals(lines: Sequence[EstimateLine]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for line in lines:
        totals[line.currency_code] = totals.get(line.currency_code, Decimal(0)) + line.amount
    return totals


@dataclass(frozen=True)
class PeriodEstimate:
    """A period some hypothetical deal falls in: the rep's lines of that period without and with
    the deals, and their fiscal-year-to-date totals (from the fiscal year's first month through
    this period), per currency."""

    period_month: str
    fiscal_year_start: str
    without: tuple[EstimateLine, ...]
    with_deals: tuple[EstimateLine, ...]
    ytd_without: dict[str, Decimal]
    ytd_with: dict[str, Decimal]

    @property
    def total_without(self) -> dict[str, Decimal]:
        return _totals(self.without)

    @property
    def total_with(self) -> dict[str, Decimal]:
        return _totals(self.with_deals)


@dataclass(frozen=True)
class Estimate:
    """What the rep would earn in each period of the hypothetical deals, without and with them."""

    employee_id: str
    rep_name: str
    plan_currency: str
    deals: tuple[tuple[str, HypotheticalDeal], ...]
    periods: tuple[PeriodEstimate, ...]
    seconds: float = field(compare=False, default=0.0)

    @property
    def text(self) -> str:
        return "\n".join(_render(self))


def _money(amounts: dict[str, Decimal]) -> str:
    if not amounts:
        return "0.00"
    return ", ".join(f"{amount:,.2f} {currency}" for currency, amount in sorted(amounts.items()))


def _describe(line: EstimateLine) -> str:
    deal = (line.deal_id or "-") + (" (what-if)" if line.is_hypothetical else "")
    band = f"band {line.tier_number}" if line.tier_number is not None else "-"
    if line.rate is None:
        rate = "-"
    elif line.line_type == "multiplier":
        rate = f"x{line.rate.normalize():f}"
    else:
        rate = f"{line.rate * 100:.2f} %"
    return (
        f"    {line.line_type:<10} {deal:<24} {line.component_id or '-':<20} {band:<7} rate {rate:<8} "
        f"{line.amount:>12,.2f} {line.currency_code}  {line.rule_applied or ''}"
    )


def _render(estimate: Estimate) -> Iterator[str]:
    yield f"What-if estimate for {estimate.employee_id} ({estimate.rep_name}), plan currency {estimate.plan_currency}"
    for deal_id, deal in estimate.deals:
        yield (
            f"  {deal_id}: {deal.amount:,.2f} {deal.currency or estimate.plan_currency} closing {deal.close_date}, "
            f"{deal.split_pct.normalize():f} % credit, {deal.deal_type}, pipeline {deal.pipeline}"
        )
    for period in estimate.periods:
        yield ""
        yield f"Period {period.period_month}"
        yield "  without the deals:"
        yield from (_describe(line) for line in period.without)
        yield f"    total {_money(period.total_without)}"
        yield "  with the deals:"
        yield from (_describe(line) for line in period.with_deals)
        yield f"    total {_money(period.total_with)}"
        paying = {line.deal_id for line in period.with_deals if line.is_hypothetical}
        for deal_id, deal in estimate.deals:
            if deal_id not in paying and f"{deal.close_date:%Y-%m}" == period.period_month:
                yield f"    ({deal_id} adds no line: the rep's plan pays nothing on its credit)"
        difference = {
            currency: period.total_with.get(currency, Decimal(0)) - period.total_without.get(currency, Decimal(0))
            for currency in set(period.total_with) | set(period.total_without)
        }
        yield (
            f"  period {period.period_month}: {_money(period.total_without)} -> {_money(period.total_with)} "
            f"(difference {_money(difference)})"
        )
        yield (
            f"  fiscal year to date ({period.fiscal_year_start} to {period.period_month}): "
            f"{_money(period.ytd_without)} -> {_money(period.ytd_with)}"
        )
    yield f"(computed by the commission models on a copy of the warehouse in {estimate.seconds:.0f} s)"


def _check(deals: Sequence[HypotheticalDeal]) -> None:
    if not deals:
        raise EstimateError("give at least one hypothetical deal (--deal-amount and --close-date)")
    for number, deal in enumerate(deals, start=1):
        where = f"deal {number}"
        if not isinstance(deal.amount, Decimal) or not deal.amount.is_finite() or deal.amount <= 0:
            raise EstimateError(f"{where}: amount {deal.amount} must be a positive number")
        if deal.amount.as_tuple().exponent < -2:  # type: ignore[operator]
            raise EstimateError(f"{where}: amount {deal.amount} has more than two decimals")
        if not isinstance(deal.close_date, dt.date):
            raise EstimateError(f"{where}: close date {deal.close_date!r} is not a date")
        if not Decimal(0) < deal.split_pct <= Decimal(100):
            raise EstimateError(f"{where}: split {deal.split_pct} must be above 0 and at most 100 (%)")
        if deal.currency is not None and not CURRENCY_PATTERN.match(deal.currency):
            raise EstimateError(f"{where}: currency {deal.currency!r} is not a three-letter code such as EUR")
        if not deal.deal_type.strip() or not deal.pipeline.strip():
            raise EstimateError(f"{where}: deal type and pipeline must not be blank")
        if deal.contract_term_months is not None and deal.contract_term_months <= 0:
            raise EstimateError(
                f"{where}: contract term {deal.contract_term_months} must be a positive number of months"
            )


def fiscal_year_start_month() -> int:
    """The project's var ``fiscal_year_start_month`` (dbt_project.yml; 1 = January)."""
    project = yaml.safe_load((settings.DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    return int((project.get("vars") or {}).get("fiscal_year_start_month") or 1)


def fiscal_year_start(period: str, start_month: int) -> str:
    """The first period of the fiscal year ``period`` ('YYYY-MM') falls in."""
    year, month = int(period[:4]), int(period[5:7])
    return f"{year if month >= start_month else year - 1:04d}-{start_month:02d}"


@dataclass(frozen=True)
class _Placed:
    deal_id: str
    deal: HypotheticalDeal
    owner_id: str
    period_month: str
    currency: str


def _place(
    con: duckdb.DuckDBPyConnection, rep: str, deals: Sequence[HypotheticalDeal]
) -> tuple[str, str, list[_Placed]]:
    """The rep's name and plan currency, and each deal's CRM owner, period and currency; a rep or
    date the engine would not pay is an :class:`EstimateError` naming it."""
    ledger_ready(con)
    name = con.execute(
        "select rep_name from marts.dim_reps where employee_id = ? order by valid_from desc limit 1", [rep]
    ).fetchone()
    if name is None:
        raise EstimateError(f"unknown rep {rep!r}: no such employee id in marts.dim_reps")
    states = period_states(con)
    placed, plan_currency = [], ""
    for number, deal in enumerate(deals, start=1):
        where = f"deal {number} (close date {deal.close_date})"
        owner = con.execute(
            "select owner_id from marts.dim_reps where employee_id = ? and owner_id is not null "
            "and ? >= valid_from and ? < valid_to",
            [rep, deal.close_date, deal.close_date],
        ).fetchone()
        if owner is None:
            raise EstimateError(f"{where}: rep {rep} has no CRM owner on that date, so no deal of theirs is credited")
        segment = con.execute(
            "select period_month, currency_code from intermediate.int_plan_segments_dated "
            "where employee_id = ? and ? between segment_start_date and segment_end_date "
            "order by segment_start_date desc limit 1",
            [rep, deal.close_date],
        ).fetchone()
        if segment is None:
            raise EstimateError(f"{where}: rep {rep} is on no commission plan on that date (credited, never paid)")
        period, currency = segment
        state = states.get(period)
        if state is not None and state.status == "closed":
            raise EstimateError(
                f"{where}: period {period} is closed; a deal dated there is paid as an adjustment in the first "
                "open period: estimate with a close date in an open period"
            )
        plan_currency = plan_currency or currency
        placed.append(_Placed(f"what-if-{number}", deal, owner[0], period, deal.currency or currency))
    return name[0], plan_currency, placed


def _run_engine(copy: Path, folder: Path, arguments: dict[str, Any]) -> None:
    """Add the deals to ``copy`` and run the commission models there, in a child process: dbt-duckdb
    keeps the database open in the process that ran dbt, and the lines are read afterwards."""
    (folder / "deals.json").write_text(json.dumps(arguments), encoding="utf-8")
    path = os.environ.get("PYTHONPATH", "")
    done = subprocess.run(
        [sys.executable, "-m", "finance.estimate", str(copy), str(folder)],
        env={**os.environ, "SPM_WAREHOUSE": str(copy), "PYTHONPATH": os.pathsep.join(filter(None, [ROOT, path]))},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        lines = (done.stderr or done.stdout or "no output").strip().splitlines()
        raise EstimateError(lines[-1] if lines else f"the commission models failed (exit {done.returncode})")


def _engine_main(copy: Path, folder: Path) -> int:
    """The child process of :func:`_run_engine`: parse once, then the macro and the models."""
    from dbt.cli.main import dbtRunner

    arguments = json.loads((folder / "deals.json").read_text(encoding="utf-8"))
    errors: list[str] = []  # dbt's error messages (a macro's error is only logged)

    def keep_errors(event: Any) -> None:
        if event.info.level == "error":
            errors.append(event.info.msg)

    try:
        manifest = _dbt(dbtRunner(callbacks=[keep_errors]), ["parse"], folder, errors)
        runner = dbtRunner(manifest=manifest, callbacks=[keep_errors])
        deals = json.dumps(arguments)
        _dbt(runner, ["run-operation", "estimate_add_hypothetical_deals", "--args", deals], folder, errors)
        _dbt(runner, ["run", "--select", *ENGINE_MODELS], folder, errors)
    except EstimateError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    return 0


def _first_line(message: object) -> str:
    """The line of a dbt error message that says what is wrong (not dbt's own preamble)."""
    lines = [line.strip() for line in str(message).strip().splitlines() if line.strip()]
    return next((line for line in reversed(lines) if line.startswith("what-if-")), lines[0] if lines else "")


def _dbt(runner: Any, arguments: list[str], folder: Path, errors: list[str]) -> Any:
    """``dbt <arguments>`` on the project, its files under ``folder``; a failure is an EstimateError."""
    result = runner.invoke(
        [
            *arguments,
            "--project-dir",
            str(settings.DBT_PROJECT_DIR),
            "--profiles-dir",
            str(settings.DBT_PROJECT_DIR),
            "--target-path",
            str(folder / "target"),
            "--log-path",
            str(folder / "logs"),
            "--quiet",
        ]
    )
    if not result.success:
        failures = [
            (f"{item.node.name}: " if getattr(item, "node", None) is not None else "") + _first_line(item.message)
            for item in getattr(result.result, "results", None) or []
            if getattr(item, "status", None) in ("error", "fail") and item.message
        ]
        reason = failures[0] if failures else _first_line("\n".join(errors) or result.exception or "see the dbt log")
        refused = re.match(r"what-if-(\d+): (.*)", reason)
        if refused:  # a deal the macro refused, named
            raise EstimateError(f"deal {refused[1]}: {refused[2]}")
        raise EstimateError(f"the commission models failed on the copy of the warehouse: dbt {arguments[0]}: {reason}")
    return result.result


def _lines(con: duckdb.DuckDBPyConnection, rep: str, first: str, last: str) -> list[EstimateLine]:
    rows = con.execute(
        f"""
        select period_month, deal_id, coalesce(deal_id like 'what-if-%', false), line_type, component_id,
            tier_number, rate, credited_amount, band_amount, rule_applied, amount, currency_code
        from {LINES}
        where employee_id = ? and period_month between ? and ?
        order by period_month, line_type, deal_id nulls first, component_id, tier_number
        """,
        [rep, first, last],
    ).fetchall()
    return [EstimateLine(*row) for row in rows]


def estimate(warehouse: Path | str, rep: str, deals: Sequence[HypotheticalDeal]) -> Estimate:
    """What ``rep`` (an HRIS employee id) would earn with the hypothetical won ``deals``, by the
    engine's commission models run on a temporary copy of ``warehouse``. Nothing is written to
    ``warehouse``. Raises :class:`EstimateError` (one line, naming the input) on bad input."""
    from core.warehouse_backup import BackupError, backup

    started = time.monotonic()
    warehouse = Path(warehouse).resolve()
    _check(deals)
    if not warehouse.is_file():
        raise EstimateError(f"no warehouse at {warehouse}: run `spm run` first, or pass --warehouse")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rep_name, plan_currency, placed = _place(con, rep, deals)
    start_month = fiscal_year_start_month()
    periods = sorted({item.period_month for item in placed})
    first = min(fiscal_year_start(period, start_month) for period in periods)
    with tempfile.TemporaryDirectory(prefix="spm-estimate-") as scratch:
        folder = Path(scratch)
        copy = folder / "warehouse.duckdb"
        try:
            backup(warehouse, copy)
        except BackupError as exc:
            raise EstimateError(str(exc)) from None
        with duckdb.connect(str(copy), read_only=True) as con:
            before = _lines(con, rep, first, periods[-1])
        arguments = {
            "deals": [
                {
                    "deal_id": item.deal_id,
                    "deal_name": f"What-if deal {item.deal_id.rsplit('-', 1)[-1]}",
                    "owner_id": item.owner_id,
                    "close_date": item.deal.close_date.isoformat(),
                    "amount": str(item.deal.amount),
                    "currency_code": item.currency,
                    "deal_type": item.deal.deal_type,
                    "pipeline_id": item.deal.pipeline,
                    "contract_term_months": item.deal.contract_term_months,
                    "split_pct": None if item.deal.split_pct == 100 else str(item.deal.split_pct),
                }
                for item in placed
            ]
        }
        _run_engine(copy, folder, arguments)
        with duckdb.connect(str(copy), read_only=True) as con:
            after = _lines(con, rep, first, periods[-1])
    result = []
    for period in periods:
        year_start = fiscal_year_start(period, start_month)
        result.append(
            PeriodEstimate(
                period,
                year_start,
                tuple(line for line in before if line.period_month == period),
                tuple(line for line in after if line.period_month == period),
                _totals([line for line in before if year_start <= line.period_month <= period]),
                _totals([line for line in after if year_start <= line.period_month <= period]),
            )
        )
    return Estimate(
        rep,
        rep_name,
        plan_currency,
        tuple((item.deal_id, item.deal) for item in placed),
        tuple(result),
        time.monotonic() - started,
    )


if __name__ == "__main__":  # the engine step of an estimate (see _run_engine)
    raise SystemExit(_engine_main(Path(sys.argv[1]), Path(sys.argv[2])))
