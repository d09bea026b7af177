"""The payroll file and the statements never carry a spreadsheet formula; amounts stay numbers."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from core.csv_cells import safe_cell
from finance.payroll import CONTROL_HEADER, HEADER, export_payouts
from finance.periods import FinanceError
from finance.statements import COLUMNS, SUMMARY_COLUMNS, write_statements
from spm.cli import main

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
    """The tables the payroll file and the statements read, for a closed 2025-01 with three reps:
    one named like a formula and paid (commission, a clawback as a deduction, a SPIF of 0), one
    clawed back below zero (a negative net), one paid a draw."""
    path = tmp_path / "w.duckdb"
    statement_columns = ", ".join(f"null::varchar as {c}" for c in COLUMNS if c not in ("amount", "currency_code"))
    summary_columns = ", ".join(f"null::varchar as {c}" for c in SUMMARY_COLUMNS if c != "net_payout_amount")
    with duckdb.connect(str(path)) as con:
        con.execute("create schema ledger; create schema marts; create schema intermediate")
        con.execute("create table ledger.payout_lines (period_month varchar, ledger_version integer)")
        con.execute("insert into ledger.payout_lines values ('2025-01', 1)")
        con.execute("create table ledger.period_events (period_month varchar)")
        con.execute("create table ledger.period_summaries (period_month varchar)")
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
        con.execute(
            "create table marts.mart_commission_statement_summaries as select '1' as employee_id, "
            f"'2025-01' as period_month, 'USD' as currency_code, {summary_columns}, "
            "1200.50::decimal(18, 2) as net_payout_amount"
        )
        con.execute(
            "create table marts.mart_payroll_lines (employee_id varchar, employee_name varchar, pay_group varchar, "
            "pay_date date, earning_code varchar, amount decimal(18, 2), currency_code varchar, period_month varchar, "
            "ledger_version integer, is_deduction boolean, net_payout_amount decimal(18, 2), kind_order integer)"
        )
        con.execute(
            "insert into marts.mart_payroll_lines values "
            "('1', $name, 'COMM', '2025-02-14', 'COMM', 1500.50, 'USD', '2025-01', 1, false, 1200.50, 1), "
            "('1', $name, 'COMM', '2025-02-14', 'SPIF', 0.00, 'USD', '2025-01', 1, false, 1200.50, 2), "
            "('1', $name, 'COMM', '2025-02-14', 'COMM_REC', 300.00, 'USD', '2025-01', 1, true, 1200.50, 5), "
            "('2', 'Bo Li', 'COMM', '2025-02-14', 'COMM_REC', 960.00, 'USD', '2025-01', 1, true, -960.00, 5), "
            "('3', 'Cy Ng', 'COMM', '2025-02-14', 'DRAW', 1000.00, 'USD', '2025-01', 1, false, 1000.00, 3)",
            {"name": EVIL_NAME},
        )
    return path


def read_csv(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_the_payroll_file_neutralises_a_formula_name_and_never_carries_a_negative_amount(
    warehouse: Path, tmp_path: Path
) -> None:
    export = export_payouts(warehouse, "2025-01", tmp_path / "payroll.csv")
    rows = read_csv(export.path)
    assert rows[0] == list(HEADER)
    assert rows[1:] == [
        ["1", "'" + EVIL_NAME, "COMM", "2025-02-14", "COMM", "1500.50", "USD", "2025-01", "1"],
        ["1", "'" + EVIL_NAME, "COMM", "2025-02-14", "COMM_REC", "300.00", "USD", "2025-01", "1"],
        ["3", "Cy Ng", "COMM", "2025-02-14", "DRAW", "1000.00", "USD", "2025-01", "1"],
    ]  # the SPIF of 0 is left out; the clawed-back rep below zero gets no row
    assert export.row_count == 3 and not any(cell.startswith(("=", "@", "+", "-")) for r in rows for cell in r)
    assert export.totals["USD"].net == Decimal("2200.50")  # 1500.50 - 300.00 + 1000.00: the nets paid
    assert export.left_out == [
        "2 Bo Li: net -960.00 USD for 2025-01 is negative; no payroll row "
        "(closed before negative balances were carried forward; settle it by hand or with a manual adjustment)"
    ]
    assert read_csv(export.control_path) == [
        list(CONTROL_HEADER),
        ["payroll.csv", "2025-01", "1", "USD", "3", "2500.50", "300.00", "2200.50"],
    ]


def test_zero_rows_only_when_asked_and_xlsx_keeps_text_and_numbers(warehouse: Path, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    with_zero = export_payouts(warehouse, "2025-01", tmp_path / "payroll.xlsx", include_zero=True)
    assert with_zero.row_count == 4 and with_zero.control_path.name == "payroll.control.csv"
    sheet = load_workbook(with_zero.path).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0] == list(HEADER)
    assert values[1][1] == EVIL_NAME and sheet.cell(2, 2).data_type == "s"  # text, not a formula
    assert [row[4] for row in values[1:]] == ["COMM", "SPIF", "COMM_REC", "DRAW"]
    assert values[2][5] == 0 and values[1][5] == 1500.5 and values[1][3].date() == dt.date(2025, 2, 14)
    with pytest.raises(FinanceError, match=r"payroll.txt: .* \.csv or \.xlsx"):
        export_payouts(warehouse, "2025-01", tmp_path / "payroll.txt")


def test_the_command_names_each_rep_left_out(warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "pay.csv"
    assert main(["export-payouts", "2025-01", "--out", str(out), "--warehouse", str(warehouse)]) == 0
    printed = capsys.readouterr().out
    assert "Left out: 2 Bo Li: net -960.00 USD for 2025-01 is negative" in printed
    assert "3 payroll rows for 2025-01" in printed and "net 2200.50 USD" in printed


def test_a_statement_neutralises_a_formula_deal_name(warehouse: Path, tmp_path: Path) -> None:
    (statement,) = write_statements(warehouse, "2025-01", tmp_path / "statements", pdf=False)
    header, line, total = read_csv(statement.csv_path)
    assert line[header.index("deal_name")] == "'" + EVIL_DEAL
    assert line[header.index("deal_id")] == "-401"  # text that is a plain number stays as it is
    assert line[header.index("amount")] == "1200.50" and total[header.index("amount")] == "1200.50"
    assert "=HYPERLINK" not in statement.csv_path.read_text(encoding="utf-8")
    assert EVIL_DEAL.replace("'", "&#39;") in statement.html_path.read_text(encoding="utf-8")
