"""Commission statements, one per rep and period: CSV (every line, for a spreadsheet), HTML (for
the screen) and PDF (for sending, printed by WeasyPrint from the same HTML).

Every figure comes from the marts: the head (plan, status, credited bookings, quota, attainment,
earnings by kind, draws, net pay, year to date) from ``marts.mart_commission_statement_summaries``,
the lines (deal, credit share, amount in the band, rate, multiplier, SPIF, clawback, adjustment)
from ``marts.mart_commission_statements``. Python only formats them (``reporting.formatting``).

The CSV's text cells that a spreadsheet would run as a formula (a deal named ``=HYPERLINK(...)``)
are written with a quote in front (``core.csv_cells``); the HTML escapes them.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from core.csv_cells import safe_rows
from finance.periods import FinanceError, ledger_ready, parse_period, require_mart

COLUMNS = (
    "line_type",
    "deal_id",
    "deal_name",
    "deal_close_date",
    "deal_amount",
    "deal_currency_code",
    "statement_reference",
    "credit_type",
    "credit_pct",
    "credited_amount",
    "component_id",
    "component_type",
    "tier_number",
    "band_amount",
    "rate",
    "multiplier_extra",
    "rule_applied",
    "amount",
    "currency_code",
    "corrects_period_month",
    "corrects_deal_id",
    "payout_line_key",
)

#: The statement head, as ``mart_commission_statement_summaries`` has it.
SUMMARY_COLUMNS = (
    "plan_label",
    "period_status",
    "closed_version",
    "closed_at",
    "credited_bookings_amount",
    "overlay_credit_amount",
    "quota_amount",
    "attainment",
    "commission_amount",
    "overlay_commission_amount",
    "multiplier_amount",
    "spif_amount",
    "clawback_amount",
    "adjustment_amount",
    "manual_adjustment_amount",
    "draw_paid_amount",
    "draw_recovered_amount",
    "balance_carried_amount",
    "balance_recovered_amount",
    "net_payout_amount",
    "opening_balance_amount",
    "closing_balance_amount",
    "balance_settled_amount",
    "balance_settlement",
    "fiscal_year",
    "ytd_credited_bookings_amount",
    "ytd_net_payout_amount",
)

#: Sections of the lines, in order: (title, line types, credit type or None, subtotal column).
SECTIONS = (
    ("Commission on your deals", ("commission",), "revenue", "commission_amount"),
    (
        "Overlay commission (team deals credited to you as overlay)",
        ("commission",),
        "overlay",
        "overlay_commission_amount",
    ),
    ("Multipliers", ("multiplier",), None, "multiplier_amount"),
    ("SPIFs", ("spif",), None, "spif_amount"),
    ("Clawbacks", ("clawback",), None, "clawback_amount"),
    ("Adjustments to closed periods", ("adjustment",), None, "adjustment_amount"),
    ("Manual adjustments (approved inquiries)", ("manual_adjustment",), None, "manual_adjustment_amount"),
    ("Draws", ("draw", "draw_recovery"), None, None),
    ("Negative balance carried forward and recovered", ("balance_carried_forward", "balance_recovery"), None, None),
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
    pdf_path: Path | None = None


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "rep"


def write_statements(
    warehouse: Path, period: str, out_dir: Path, pdf: bool = True, generated_at: dt.datetime | None = None
) -> list[Statement]:
    """Write ``<period>_<employee>_<name>.csv``, ``.html`` and (``pdf``) ``.pdf`` for every rep with
    lines in ``period``.

    Each statement's lines must add up to the monthly mart's net payout for the rep (checked
    before anything is written); the head shows the summary mart's figures.
    """
    period = parse_period(period)
    generated_at = generated_at or dt.datetime.now(dt.UTC).replace(microsecond=0)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        ledger_ready(con)
        lines = con.execute(
            f"select employee_id, coalesce(rep_name, employee_id), period_status, {', '.join(COLUMNS)} "
            "from marts.mart_commission_statements where period_month = ? "
            "order by employee_id, line_order, credit_type nulls first, deal_close_date nulls last, deal_id, "
            "tier_number, corrects_period_month",
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
        summaries = _summaries(con, period)
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
        summary = summaries.get((employee_id, currency))
        if summary is None:
            raise FinanceError(
                f"mart_commission_statement_summaries has no row for {employee_id} in {period}; "
                "rebuild the finance models (`spm run`) first"
            )
        stem = out_dir / f"{period}_{employee_id}_{_slug(name)}"
        csv_path, html_path = stem.with_suffix(".csv"), stem.with_suffix(".html")
        with csv_path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(COLUMNS)
            writer.writerows(safe_rows(body))
            writer.writerow(["total", *[""] * (COLUMNS.index("amount") - 1), expected, currency])
        html = render_statement(
            employee_id,
            name,
            period,
            summary,
            [dict(zip(COLUMNS, r, strict=True)) for r in body],
            currency,
            generated_at,
        )
        html_path.write_text(html, encoding="utf-8")
        pdf_path = None
        if pdf:
            from reporting.pdf import write_pdf

            pdf_path = stem.with_suffix(".pdf")
            write_pdf(html, pdf_path)
        written.append(Statement(employee_id, name, period, status, total, currency, csv_path, html_path, pdf_path))
    return written


def _summaries(con: duckdb.DuckDBPyConnection, period: str) -> dict[tuple[str, str], dict[str, Any]]:
    """The statement heads of ``period`` by (employee, currency)."""
    require_mart(con, "mart_commission_statement_summaries")
    rows = con.execute(
        f"select employee_id, currency_code, {', '.join(SUMMARY_COLUMNS)} "
        "from marts.mart_commission_statement_summaries where period_month = ?",
        [period],
    ).fetchall()
    return {(row[0], row[1]): dict(zip(SUMMARY_COLUMNS, row[2:], strict=True)) for row in rows}


def _period_dates(period: str) -> tuple[dt.date, dt.date]:
    first = dt.date.fromisoformat(f"{period}-01")
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return first, following - dt.timedelta(days=1)


def _describe(line: dict[str, Any]) -> str:
    """What a line is, in words: its kind, and what a clawback or adjustment corrects."""
    kind = line["line_type"]
    deal = line["deal_name"] or line["corrects_deal_id"] or line["deal_id"]
    if kind == "clawback":
        return (
            f"Clawback of {line['component_id']}: deal {deal} cancelled, "
            f"reclaims what {line['corrects_period_month']} paid for it"
        )
    if kind == "adjustment":
        target = f"deal {deal}" if deal else "the period's lines"
        return f"Adjustment to {line['corrects_period_month']} ({target}): today's data differs from what was paid"
    if kind == "manual_adjustment":
        about = f" (deal {deal})" if deal else ""
        return f"Manual adjustment{about}, approved by finance"
    if kind == "draw":
        return "Draw paid"
    if kind == "draw_recovery":
        return "Draw recovered from this month's earnings"
    if kind == "balance_carried_forward":
        return "Negative month: not paid now; the shortfall is a balance you owe"
    if kind == "balance_recovery":
        return "Balance carried from earlier months, recovered from this month's pay"
    if kind == "spif":
        return f"SPIF {line['component_id']}" + (f": deal {deal}" if deal else " (once for the period)")
    if kind == "multiplier":
        return f"Multiplier {line['component_id']}: deal {deal}"
    return deal or "-"


def render_statement(
    employee_id: str,
    name: str,
    period: str,
    summary: dict[str, Any],
    lines: list[dict[str, Any]],
    currency: str,
    generated_at: dt.datetime,
) -> str:
    """The statement as one self-contained HTML page (no script, nothing fetched)."""
    from reporting.html import template_environment

    sections = []
    for title, types, credit_type, subtotal in SECTIONS:
        chosen = [
            line
            for line in lines
            if line["line_type"] in types and (credit_type is None or (line["credit_type"] or "revenue") == credit_type)
        ]
        if chosen:
            sections.append(
                {
                    "title": title,
                    "kind": types[0],
                    "lines": [{**line, "description": _describe(line)} for line in chosen],
                    "subtotal": summary[subtotal] if subtotal else None,
                }
            )
    first, last = _period_dates(period)
    return (
        template_environment(Path(__file__).parent / "templates")
        .get_template("statement.html.j2")
        .render(
            employee_id=employee_id,
            name=name,
            period=period,
            period_name=f"{first:%B %Y}",
            first_day=first,
            last_day=last,
            summary=summary,
            sections=sections,
            currency=currency,
            generated_at=generated_at,
        )
    )
