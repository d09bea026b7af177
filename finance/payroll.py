"""The payroll file: one row per rep for a closed period, from the monthly commission mart.

Text cells a spreadsheet would run as a formula (a name starting with ``=``) are written with a
quote in front (``core.csv_cells``); amounts stay numbers.
"""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import duckdb

from core.csv_cells import safe_row
from finance.periods import FinanceError, ledger_ready, parse_period, period_states

HEADER = ("employee_id", "employee_name", "period", "net_amount", "currency", "ledger_version")


def export_payouts(warehouse: Path, period: str, out_file: Path) -> tuple[int, dict[str, Decimal]]:
    """Write the payroll CSV of a closed ``period``; refuse an open one.

    Returns the row count and the total per currency (equal to the mart's net payout total).
    """
    period = parse_period(period)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        ledger_ready(con)
        state = period_states(con).get(period)
        if state is None or state.status != "closed":
            raise FinanceError(f"{period} is not closed: close it (`spm close-period {period}`) before paying it")
        rows = con.execute(
            "select employee_id, coalesce(rep_name, ''), period_month, net_payout_amount, currency_code, "
            "closed_version "
            "from marts.mart_commissions_monthly where period_month = ? and line_count > 0 order by employee_id",
            [period],
        ).fetchall()
    stale = [r for r in rows if r[5] != state.closed_version]
    if stale:
        raise FinanceError(
            f"mart_commissions_monthly shows version {stale[0][5]} of {period} but the ledger holds version "
            f"{state.closed_version}; rebuild the finance models (`spm run`) first"
        )
    out_file.parent.mkdir(parents=True, exist_ok=True)
    totals: dict[str, Decimal] = {}
    with out_file.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for row in rows:
            writer.writerow(safe_row(row))
            totals[row[4]] = totals.get(row[4], Decimal("0.00")) + row[3]
    return len(rows), totals
