"""The payroll file and the statements never carry a spreadsheet formula; amounts stay numbers."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from core.csv_cells import safe_cell
from finance.payroll import export_payouts
from finance.statements import COLUMNS, write_statements

EVIL_NAME = '=HYPERLINK("http://x","y")'
EVIL_DEAL = "@SUM(1+1)*cmd|' /C calc'!A0"


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        (EVIL_NAME, "'" + EVIL_NAME),
        ("+1+cmd", "'+1+cmd"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-960.00", "-960.00"),  # a number written as text stays a number
        ("+5", "+5"),
        ("-1e-3", "-1e-3"),
        ("Ana Diaz", "Ana Diaz"),
        ("a=b", "a=b"),
        (Decimal("-960.00"), Decimal("-960.00")),
        (-3, -3),
        (None, None),
    ],
)
def test_a_cell_starting_like_a_formula_gets_a_quote(cell: object, written: object) -> None:
    assert safe_cell(cell) == written


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    """The tables the payroll file and the statements read, for a closed 2025-01 with two reps:
    one named like a formula and paid, one clawed back (a negative net)."""
    path = tmp_path / "w.duckdb"
    statement_columns = ", ".join(f"null::varchar as {c}" for c in COLUMNS if c not in ("amount", "currency_code"))
    with duckdb.connect(str(path)) as con:
        con.execute("create schema ledger; create schema marts; create schema intermediate")
        con.execute("create table ledger.payout_lines (period_month varchar, ledger_version integer)")
        con.execute("insert into ledger.payout_lines values ('2025-01', 1)")
        con.execute("create table ledger.period_events (period_month varchar)")
        con.execute("create table marts.fct_payouts (period_month varchar)")
        con.execute(
            "create table intermediate.int_payout_periods_classified as "
            "select '2025-01' as period_month, 'closed' as period_status, 1 as closed_version"
        )
        con.execute(
            "create table marts.mart_commissions_monthly (employee_id varchar, rep_name varchar, "
            "period_month varchar, net_payout_amount decimal(18, 2), currency_code varchar, "
            "closed_version integer, line_count integer)"
        )
        con.execute(
            "insert into marts.mart_commissions_monthly values "
            "('1', ?, '2025-01', 1200.50, 'USD', 1, 2), ('2', 'Bo Li', '2025-01', -960.00, 'USD', 1, 1)",
            [EVIL_NAME],
        )
        con.execute(
            "create table marts.mart_commission_statements as select '1' as employee_id, ? as rep_name, "
            f"'closed' as period_status, 1 as line_order, '2025-01' as period_month, {statement_columns}, "
            "1200.50::decimal(18, 2) as amount, 'USD' as currency_code",
            [EVIL_NAME],
        )
        con.execute(
            "update marts.mart_commission_statements set deal_name = ?, line_type = 'commission', deal_id = '-401'",
            [EVIL_DEAL],
        )
    return path


def test_the_payroll_file_neutralises_a_formula_name_and_keeps_negative_amounts(
    warehouse: Path, tmp_path: Path
) -> None:
    out = tmp_path / "payroll.csv"
    count, totals = export_payouts(warehouse, "2025-01", out)
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert count == 2 and totals == {"USD": Decimal("240.50")}
    assert rows[1] == ["1", "'" + EVIL_NAME, "2025-01", "1200.50", "USD", "1"]
    assert rows[2] == ["2", "Bo Li", "2025-01", "-960.00", "USD", "1"]  # the clawback stays a number
    assert not any(cell.startswith(("=", "@", "+")) for row in rows for cell in row)


def test_a_statement_neutralises_a_formula_deal_name(warehouse: Path, tmp_path: Path) -> None:
    (statement,) = write_statements(warehouse, "2025-01", tmp_path / "statements")
    with statement.csv_path.open(newline="", encoding="utf-8") as handle:
        header, line, total = list(csv.reader(handle))
    assert line[header.index("deal_name")] == "'" + EVIL_DEAL
    assert line[header.index("deal_id")] == "-401"  # text that is a plain number stays as it is
    assert line[header.index("amount")] == "1200.50" and total[header.index("amount")] == "1200.50"
    assert "=HYPERLINK" not in statement.csv_path.read_text(encoding="utf-8")
    assert EVIL_DEAL.replace("'", "&#x27;") in statement.html_path.read_text(encoding="utf-8")
