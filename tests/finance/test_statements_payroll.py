"""Statements and the payroll file of the session-built small company, January 2025 closed: a
statement as a rep reads it (PDF text, and the page in headless Chromium: no console error, the
figures those of the marts), and the payroll file as payroll imports it (one row per earning code,
never negative, control totals equal to the monthly mart)."""

from __future__ import annotations

import csv
import struct
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from pypdf import PdfReader

from finance.payroll import HEADER, export_payouts
from finance.statements import SUMMARY_COLUMNS, Statement, write_statements
from reporting.formatting import money, percent
from tests.job_runs import run_close_job
from tests.reporting.browser import chromium, open_page
from tests.small_company import built_small_company

CLOSED, OPEN = "2025-01", "2025-02"


@pytest.fixture(scope="module")
def warehouse(dbt_manifest: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the small company with January closed (version 1)."""
    company = built_small_company(tmp_path_factory).copy_to(tmp_path_factory.mktemp("statements"))
    result = run_close_job(company.warehouse, CLOSED)
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    return company.warehouse


def rows(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def richest_rep(warehouse: Path, period: str) -> str:
    """The rep of ``period`` with the most credits split across bands, then the most kinds of line."""
    return rows(
        warehouse,
        "select employee_id from marts.mart_commission_statements where period_month = ? group by employee_id "
        "order by count(*) filter (where band_amount <> credited_amount) desc, count(distinct line_type) desc, "
        "employee_id limit 1",
        [period],
    )[0][0]


def summary(warehouse: Path, employee_id: str, period: str) -> dict[str, object]:
    (row,) = rows(
        warehouse,
        f"select {', '.join(SUMMARY_COLUMNS)} from marts.mart_commission_statement_summaries "
        "where employee_id = ? and period_month = ?",
        [employee_id, period],
    )
    return dict(zip(SUMMARY_COLUMNS, row, strict=True))


@pytest.fixture(scope="module")
def statements(warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Statement]:
    out = tmp_path_factory.mktemp("statement_files")
    written = {}
    for period in (CLOSED, OPEN):
        employee_id = richest_rep(warehouse, period)
        (written[period],) = [s for s in write_statements(warehouse, period, out) if s.employee_id == employee_id]
    return written


def test_statements_of_a_period_add_up_to_the_monthly_mart(warehouse: Path, tmp_path: Path) -> None:
    written = write_statements(warehouse, CLOSED, tmp_path, pdf=False)
    (net,) = rows(
        warehouse, "select sum(net_payout_amount) from marts.mart_commissions_monthly where period_month = ?", [CLOSED]
    )[0]
    assert sum(s.total for s in written) == net and all(s.status == "closed" for s in written)
    assert all(s.pdf_path is None and s.html_path.exists() for s in written)


def test_the_pdf_reads_as_the_marts_say(warehouse: Path, statements: dict[str, Statement]) -> None:
    statement = statements[CLOSED]
    text = " ".join(page.extract_text() for page in PdfReader(statement.pdf_path).pages)
    text = " ".join(text.split())
    head = summary(warehouse, statement.employee_id, CLOSED)
    currency = statement.currency
    assert "Commission statement, January 2025" in text and statement.rep_name in text
    assert f"Closed, ledger version {head['closed_version']}" in text and head["plan_label"] in text
    for column in ("credited_bookings_amount", "quota_amount", "commission_amount", "net_payout_amount"):
        assert f"{money(head[column], currency, 2)}" in text, column
    assert percent(head["attainment"], 1) in text
    assert f"Net pay {money(head['net_payout_amount'], currency, 2)}" in text
    # rates as percentages, never as raw fractions
    rates = rows(
        warehouse,
        "select distinct rate from marts.mart_commission_statements where employee_id = ? and period_month = ? "
        "and line_type = 'commission' and rate is not null",
        [statement.employee_id, CLOSED],
    )
    assert rates and all(percent(rate, 2) in text for (rate,) in rates)
    assert "0.080000" not in text and "rate 1.2" not in text


def test_the_page_in_chromium_shows_the_marts_figures(
    warehouse: Path, statements: dict[str, Statement], tmp_path: Path
) -> None:
    if chromium() is None:
        pytest.skip("chromium is not installed")
    statement = statements[OPEN]
    head = summary(warehouse, statement.employee_id, OPEN)
    lines = rows(
        warehouse,
        "select payout_line_key, line_type, band_amount, rate, multiplier_extra, amount "
        "from marts.mart_commission_statements where employee_id = ? and period_month = ?",
        [statement.employee_id, OPEN],
    )
    with open_page(statement.html_path) as page:
        figures = page.evaluate(
            "Object.fromEntries([...document.querySelectorAll('[data-figure]')]"
            ".map(e => [e.dataset.figure, e.textContent.trim()]))"
        )
        cells = page.evaluate(
            "Object.fromEntries([...document.querySelectorAll('tr[data-line]')]"
            ".map(r => [r.dataset.line, [...r.cells].map(c => c.textContent.trim())]))"
        )
        status = page.evaluate("document.querySelector('#status').textContent")
        shot = page.screenshot(tmp_path / "statement.png")
        assert not page.errors, page.errors
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">I", shot.read_bytes()[16:20])[0] == 1000
    assert "Open" in status
    currency = statement.currency
    assert figures["net_payout_amount"] == money(head["net_payout_amount"], currency, 2)
    assert figures["attainment"] == percent(head["attainment"], 1)
    assert figures["ytd_net_payout_amount"] == money(head["ytd_net_payout_amount"], currency, 2)
    assert set(cells) == {key for key, *_ in lines}
    split = 0
    for key, line_type, band_amount, rate, extra, amount in lines:
        shown = cells[key]
        assert shown[-1] == money(amount, currency, 2)
        if line_type == "commission":
            assert shown[5] == money(band_amount, currency, 2) and shown[6] == percent(rate, 2)
            split += band_amount != Decimal(shown[3].split()[-1].replace(",", ""))
        if line_type == "multiplier":
            assert shown[6] == f"{extra:.1f}x extra"  # what it pays on top, not the factor
    assert split > 0  # the rep chosen has a credit split across bands: amounts in band, not the credit


def test_the_payroll_file_ties_to_the_monthly_mart(warehouse: Path, tmp_path: Path) -> None:
    export = export_payouts(warehouse, CLOSED, tmp_path / "payroll.csv")
    with export.path.open(newline="", encoding="utf-8") as handle:
        paid = list(csv.DictReader(handle))
    assert list(paid[0]) == list(HEADER) and len(paid) == export.row_count > 0
    assert all(Decimal(r["amount"]) > 0 for r in paid)
    assert {r["earning_code"] for r in paid} <= {"COMM", "SPIF", "DRAW", "COMM_ADJ", "COMM_REC"}
    assert {(r["period"], r["ledger_version"], r["pay_group"], r["pay_date"]) for r in paid} == {
        (CLOSED, "1", "COMMISSIONS", "2025-02-14")  # the 15th is a Saturday: the Friday before
    }
    signed = sum(-Decimal(r["amount"]) if r["earning_code"] == "COMM_REC" else Decimal(r["amount"]) for r in paid)
    ((net, negative),) = rows(
        warehouse,
        "select sum(net_payout_amount) filter (where net_payout_amount >= 0), "
        "count(*) filter (where net_payout_amount < 0) from marts.mart_commissions_monthly where period_month = ?",
        [CLOSED],
    )
    assert signed == export.totals["USD"].net == net and len(export.left_out) == negative
    with export.control_path.open(newline="", encoding="utf-8") as handle:
        (control,) = list(csv.DictReader(handle))
    assert int(control["row_count"]) == len(paid) and Decimal(control["net_total"]) == net
    everything = export_payouts(warehouse, CLOSED, tmp_path / "all.xlsx", include_zero=True)
    assert everything.row_count > export.row_count and everything.totals["USD"].net == net
