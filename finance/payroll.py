"""The payroll file of a closed period, as payroll imports it, from ``marts.mart_payroll_lines``.

One row per rep and earning code (commission, SPIF, draw, adjustment, recovery), with the pay
group, pay date and codes mapped in ``var('payroll')`` (dbt_project.yml), as CSV or XLSX (by the
file's suffix), and beside it a control file ``<name>.control.csv``: the row count and the totals
per currency (earnings, deductions, net). Amounts are never negative: recovery is a deduction
code; a rep whose month nets below zero gets no row, and the export names them (one line each).
Rows of 0 are left out unless asked for.

Text cells a spreadsheet would run as a formula (a name starting with ``=``) are written with a
quote in front in the CSV (``core.csv_cells``) and as plain text cells in the XLSX; amounts stay
numbers.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from core.csv_cells import safe_row
from finance.periods import FinanceError, history_refusal, ledger_ready, parse_period, period_states, require_mart

HEADER = (
    "employee_id",
    "employee_name",
    "pay_group",
    "pay_date",
    "earning_code",
    "amount",
    "currency",
    "period",
    "ledger_version",
)
CONTROL_HEADER = (
    "file",
    "period",
    "ledger_version",
    "currency",
    "row_count",
    "earnings_total",
    "deductions_total",
    "net_total",
)
FORMATS = (".csv", ".xlsx")


@dataclass(frozen=True)
class CurrencyTotal:
    """What a payroll file pays in one currency: earnings - deductions = net."""

    rows: int
    earnings: Decimal
    deductions: Decimal

    @property
    def net(self) -> Decimal:
        return self.earnings - self.deductions


@dataclass(frozen=True)
class PayrollExport:
    """A written payroll file: its rows, totals per currency, control file and the reps left out."""

    path: Path
    control_path: Path
    row_count: int
    totals: dict[str, CurrencyTotal]
    left_out: list[str] = field(default_factory=list)


def export_payouts(warehouse: Path, period: str, out_file: Path, include_zero: bool = False) -> PayrollExport:
    """Write the payroll file of a closed ``period`` (CSV or XLSX by ``out_file``'s suffix) and its
    control file; refuse an open period or a stale mart."""
    period = parse_period(period)
    if out_file.suffix.lower() not in FORMATS:
        raise FinanceError(f"{out_file.name}: the payroll file is written as .csv or .xlsx, not {out_file.suffix!r}")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        ledger_ready(con)
        state = period_states(con).get(period)
        if state is not None and state.status == "history":
            raise FinanceError(history_refusal(state))
        if state is None or state.status != "closed":
            raise FinanceError(f"{period} is not closed: close it (`spm close-period {period}`) before paying it")
        require_mart(con, "mart_payroll_lines")
        lines = con.execute(
            "select employee_id, coalesce(employee_name, ''), pay_group, pay_date, earning_code, amount, "
            "currency_code, period_month, ledger_version, is_deduction, net_payout_amount "
            "from marts.mart_payroll_lines where period_month = ? "
            "order by pay_group, employee_id, currency_code, kind_order",
            [period],
        ).fetchall()
    stale = [r for r in lines if r[8] != state.closed_version]
    if stale:
        raise FinanceError(
            f"mart_payroll_lines shows version {stale[0][8]} of {period} but the ledger holds version "
            f"{state.closed_version}; rebuild the finance models (`spm run`) first"
        )
    negative: dict[tuple[str, str], tuple[str, Decimal]] = {}
    rows, totals = [], {}
    for line in lines:
        employee_id, name, currency, net = line[0], line[1], line[6], line[10]
        if net < 0:
            negative[(employee_id, currency)] = (name, net)
            continue
        if line[5] == 0 and not include_zero:
            continue
        rows.append(line[:9])
        before = totals.get(currency, CurrencyTotal(0, Decimal("0.00"), Decimal("0.00")))
        earning, deduction = (Decimal("0.00"), line[5]) if line[9] else (line[5], Decimal("0.00"))
        totals[currency] = CurrencyTotal(before.rows + 1, before.earnings + earning, before.deductions + deduction)
    left_out = [
        f"{employee_id} {name}: net {net} {currency} for {period} is negative; no payroll row "
        "(closed before negative balances were carried forward; settle it by hand or with a manual adjustment)"
        for (employee_id, currency), (name, net) in sorted(negative.items())
    ]
    out_file.parent.mkdir(parents=True, exist_ok=True)
    (_write_xlsx if out_file.suffix.lower() == ".xlsx" else _write_csv)(out_file, rows)
    control = out_file.with_name(f"{out_file.stem}.control.csv")
    _write_control(control, out_file.name, period, state.closed_version, totals)
    return PayrollExport(out_file, control, len(rows), totals, left_out)


def _write_csv(path: Path, rows: list[tuple[Any, ...]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for row in rows:
            writer.writerow(safe_row(row))


def _write_xlsx(path: Path, rows: list[tuple[Any, ...]]) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "payroll"
    sheet.append(HEADER)
    for row in rows:
        sheet.append(list(row))
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text stays text: a name starting with '=' is not a formula
            elif isinstance(cell.value, dt.date):
                cell.number_format = "yyyy-mm-dd"
            elif isinstance(cell.value, Decimal):
                cell.number_format = "#,##0.00"
    book.save(path)


def _write_control(path: Path, name: str, period: str, version: int | None, totals: dict[str, CurrencyTotal]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CONTROL_HEADER)
        for currency, total in sorted(totals.items()) or [("", CurrencyTotal(0, Decimal("0.00"), Decimal("0.00")))]:
            writer.writerow(
                safe_row([name, period, version, currency, total.rows, total.earnings, total.deductions, total.net])
            )
