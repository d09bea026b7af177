"""The audit trail on the `small` company: a closed payout line keeps the deal version, file and
line it was computed from after the deal changes in a later delivery; the adjustment in the open
month names both versions and the field that changed (`spm explain`, mart_payout_lineage,
statements' references)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from finance.statements import write_statements
from spm.cli import main
from tests.job_runs import run_close_job, run_warehouse_job
from tests.small_company import Company, built_small_company

CHANGED_FILE = "crm/deals/2025-12-31_change.jsonl"


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory, dbt_manifest: Path) -> Company:
    return built_small_company(tmp_path_factory)


def rows(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def explain(capsys: pytest.CaptureFixture[str], warehouse: Path, *args: str) -> tuple[int, str, str]:
    status = main(["explain", *args, "--warehouse", str(warehouse)])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_a_closed_line_keeps_its_deal_version_and_the_adjustment_names_what_changed(
    company: Company, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = company.copy_to(tmp_path / "company")
    warehouse = copy.warehouse
    assert run_close_job(warehouse, "2025-01").success

    # a closed commission line on a deal credited 100 % to its owner, with its provenance frozen
    employee, deal, updated_at, source_file, source_line, deal_amount = rows(
        warehouse,
        "select employee_id, deal_id, deal_updated_at, deal_source_file, deal_source_line, deal_amount "
        "from marts.fct_payouts where period_month = '2025-01' and period_status = 'closed' "
        "and line_type = 'commission' and credit_type = 'revenue' and credit_source = 'deal owner' "
        "and deal_source_file is not null order by amount desc, payout_line_key limit 1",
    )[0]
    ledger = rows(
        warehouse,
        "select distinct deal_updated_at, deal_source_file, deal_source_line from ledger.payout_lines "
        "where period_month = '2025-01' and deal_id = ? and employee_id = ?",
        [deal, employee],
    )
    assert ledger == [(updated_at, source_file, source_line)]

    # a later delivery changes the deal's amount
    record = json.loads((copy.landing / source_file).read_text(encoding="utf-8").splitlines()[source_line - 1])
    assert record["id"] == deal
    changed_amount = deal_amount * 2
    record["properties"]["amount"] = str(changed_amount)
    record["properties"]["hs_lastmodifieddate"] = record["updatedAt"] = "2025-12-31T23:30:00.000Z"
    (copy.landing / CHANGED_FILE).write_text(json.dumps(record) + "\n", encoding="utf-8")
    assert run_warehouse_job(copy.landing, warehouse).success

    # the closed month still names the version it was computed from
    status, out, _ = explain(capsys, warehouse, "--rep", employee, "--period", "2025-01", "--deal", deal)
    assert status == 0, out
    assert "closed, ledger version 1" in out
    assert f"deal version {updated_at:%Y-%m-%d %H:%M:%S} from {source_file}:{source_line}" in out
    assert f"amount {deal_amount:,.2f}" in out and CHANGED_FILE not in out
    assert "rule from plans/commission_plans/" in out and "tiers[" in out

    # the adjustment in the first open month names both versions and the field that changed
    status, out, _ = explain(capsys, warehouse, "--rep", employee, "--period", "2025-02", "--deal", deal)
    assert status == 0, out
    assert "adjustment" in out and "adjustment: closed 2025-01 paid" in out
    assert f"deal amount {deal_amount} -> {changed_amount}" in out
    assert f"({source_file}:{source_line}) -> 2025-12-31 23:30:00" in out and f"({CHANGED_FILE}:1)" in out

    # BI reads the same chain; the statement prints the reference explain resolves
    reference = f"{deal}@{updated_at:%Y-%m-%d}"
    assert rows(
        warehouse,
        "select distinct statement_reference from marts.mart_payout_lineage "
        "where period_month = '2025-01' and deal_id = ? and employee_id = ?",
        [deal, employee],
    ) == [(reference,)]
    statements = write_statements(warehouse, "2025-01", tmp_path / "statements", pdf=False)
    (mine,) = [s for s in statements if s.employee_id == employee]
    assert f"ref {reference}" in mine.html_path.read_text(encoding="utf-8")
    assert Decimal(mine.total) > 0

    # a wrong rep or period: one line, exit 2
    status, out, err = explain(capsys, warehouse, "--rep", "nobody", "--period", "2025-01")
    assert status == 2 and "no payout lines for employee nobody" in err and "Traceback" not in err
    status, _, err = explain(capsys, warehouse, "--rep", employee, "--period", "2025-1")
    assert status == 2 and "YYYY-MM" in err
