"""Commission statements, one file per rep and period, from ``marts.mart_commission_statements``.

The CSV's text cells that a spreadsheet would run as a formula (a deal named ``=HYPERLINK(...)``)
are written with a quote in front (``core.csv_cells``); the HTML escapes them.
"""

from __future__ import annotations

import csv
import html
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb

from core.csv_cells import safe_rows
from finance.periods import FinanceError, ledger_ready, parse_period

COLUMNS = (
    "line_type",
    "deal_id",
    "deal_name",
    "deal_close_date",
    "deal_amount",
    "deal_currency_code",
    "credit_type",
    "credit_pct",
    "credited_amount",
    "component_id",
    "tier_number",
    "rate",
    "rule_applied",
    "amount",
    "currency_code",
    "corrects_period_month",
    "corrects_deal_id",
    "payout_line_key",
)


@dataclass(frozen=True)
class Statement:
    """One rep's statement for a period, as written."""

    employee_id: str
    rep_name: str
    period: str
    status: str
    total: Decimal
    currency: str
    csv_path: Path
    html_path: Path


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "rep"


def write_statements(warehouse: Path, period: str, out_dir: Path) -> list[Statement]:
    """Write ``<period>_<employee>_<name>.csv`` and ``.html`` for every rep with lines in ``period``.

    Each file lists every payout line (deal, credit share, band, rate, rule) and its total; the
    total is checked against the monthly mart before anything is written.
    """
    period = parse_period(period)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        ledger_ready(con)
        lines = con.execute(
            f"select employee_id, coalesce(rep_name, employee_id), period_status, {', '.join(COLUMNS)} "
            "from marts.mart_commission_statements where period_month = ? "
            "order by employee_id, line_order, deal_close_date nulls last, deal_id, tier_number",
            [period],
        ).fetchall()
        totals = dict(
            ((row[0], row[1]), row[2])
            for row in con.execute(
                "select employee_id, currency_code, net_payout_amount from marts.mart_commissions_monthly "
                "where period_month = ?",
                [period],
            ).fetchall()
        )
    if not lines:
        raise FinanceError(f"no payout lines for {period}: nothing to state")
    by_rep: dict[str, list[tuple]] = {}
    for row in lines:
        by_rep.setdefault(row[0], []).append(row)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for employee_id, rows in by_rep.items():
        name, status = rows[0][1], rows[0][2]
        body = [row[3:] for row in rows]
        currency = body[0][COLUMNS.index("currency_code")]
        total = sum((r[COLUMNS.index("amount")] for r in body), Decimal("0.00"))
        expected = totals.get((employee_id, currency))
        if expected != total:
            raise FinanceError(
                f"statement of {employee_id} for {period} totals {total} but mart_commissions_monthly says {expected}"
            )
        stem = out_dir / f"{period}_{employee_id}_{_slug(name)}"
        csv_path, html_path = stem.with_suffix(".csv"), stem.with_suffix(".html")
        with csv_path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(COLUMNS)
            writer.writerows(safe_rows(body))
            writer.writerow(["total", *[""] * (COLUMNS.index("amount") - 1), total, currency])
        html_path.write_text(_render_html(name, employee_id, period, status, body, total, currency), encoding="utf-8")
        written.append(Statement(employee_id, name, period, status, total, currency, csv_path, html_path))
    return written


def _render_html(
    name: str, employee_id: str, period: str, status: str, body: list[tuple], total: Decimal, currency: str
) -> str:
    shown = (
        "line_type",
        "deal_name",
        "deal_close_date",
        "credit_pct",
        "credited_amount",
        "tier_number",
        "rate",
        "rule_applied",
        "amount",
    )
    index = [COLUMNS.index(c) for c in shown]

    def cell(value: object) -> str:
        return html.escape("" if value is None else str(value))

    rows = "\n".join("<tr>" + "".join(f"<td>{cell(r[i])}</td>" for i in index) + "</tr>" for r in body)
    header = "".join(f"<th>{html.escape(c.replace('_', ' '))}</th>" for c in shown)
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>Commission statement {cell(period)} - {cell(name)}</title>"
        "<style>body{font-family:sans-serif}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
        "padding:3px 6px;font-size:13px}td:last-child{text-align:right}</style></head><body>"
        f"<h1>Commission statement {cell(period)}</h1><p>{cell(name)} (employee {cell(employee_id)}), "
        f"period {cell(status)}</p><table><tr>{header}</tr>{rows}"
        f"<tr><th colspan='{len(shown) - 1}'>Total</th><th>{cell(total)} {cell(currency)}</th></tr>"
        "</table></body></html>\n"
    )
