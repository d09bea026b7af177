"""End to end on the `small` company: close a month, load a late deal and its cancellation, rebuild.

The closed month's ledger must not change by a byte; the difference appears as adjustment and
clawback lines in the first open month, referencing the month and deal they correct. Reopening
creates a new version beside the old one; an invalid plan stops the commission models and leaves
the finance marts as they were.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from finance.ledger import close_period, reopen_period
from finance.payroll import export_payouts
from finance.periods import FinanceError, plan_rule_violations
from finance.statements import write_statements
from spm.run_summary import RunSummary
from synthetic import generate
from tests.finance.plausibility import assert_plausible_commissions
from tests.job_runs import run_close_job, run_warehouse_job, summarise_run
from tests.warehouse_checks import table_fingerprints

T0 = dt.date(2025, 12, 31)
LATE_DEAL = "59999999"


def run_job(landing: Path, warehouse: Path) -> RunSummary:
    """Run warehouse_job (load + dbt build) on the landing folder."""
    return summarise_run(run_warehouse_job(landing, warehouse), warehouse, landing)


def close(warehouse: Path, period: str, action: str = "close", reason: str = "") -> dict[str, object]:
    """Run close_period_job (the ledger step, then the models that read the ledger); return what the
    ledger step recorded on its materialization."""
    result = run_close_job(warehouse, period, action, reason)
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    (ledger,) = [
        m for m in result.get_asset_materialization_events() if m.asset_key.to_user_string() == "ledger/payout_lines"
    ]
    metadata = {key: value.value for key, value in ledger.materialization.metadata.items()}
    rebuilt = {m.asset_key.to_user_string() for m in result.get_asset_materialization_events()}
    assert {"marts/fct_payouts", "marts/mart_commissions_monthly", "marts/fct_payout_ledger"} <= rebuilt
    assert "marts/fct_deals" not in rebuilt  # only what reads the ledger is rebuilt
    # ... behind the finance gates, which a close runs too
    gates = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert gates["blocking_suites_passed"] and gates["plan_inputs_follow_the_rules"]
    return metadata


def rows(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def scalar(warehouse: Path, sql: str, params: list | None = None) -> object:
    return rows(warehouse, sql, params)[0][0]


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory, dbt_manifest: Path) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("close")
    landing, warehouse = root / "landing", root / "w.duckdb"
    generate(landing, "small", 42, T0)
    summary = run_job(landing, warehouse)
    assert summary.success and not summary.checks_failed, summary.render()
    assert_plausible_commissions(warehouse)
    return landing, warehouse


def late_cancelled_deal(owner_id: str) -> dict:
    """A deal won on 2025-01-20 that only reaches the CRM after January was closed, cancelled on 2025-02-10."""
    history = [
        ("closedlost", "2025-02-10T09:00:00.000Z"),
        ("closedwon", "2025-01-20T16:00:00.000Z"),
        ("appointmentscheduled", "2025-01-05T09:00:00.000Z"),
    ]
    return {
        "id": LATE_DEAL,
        "properties": {
            "dealname": "Late Corp - New business",
            "pipeline": "default",
            "dealstage": "closedlost",
            "amount": "20000.00",
            "deal_currency_code": "USD",
            "closedate": "2025-01-20T16:00:00.000Z",
            "createdate": "2025-01-05T09:00:00.000Z",
            "hs_lastmodifieddate": "2025-02-10T09:00:00.000Z",
            "hubspot_owner_id": owner_id,
            "dealtype": "newbusiness",
            "closed_lost_reason": "Cancelled after signature",
            "contract_term_months": "36",
        },
        "createdAt": "2025-01-05T09:00:00.000Z",
        "updatedAt": "2025-02-10T09:00:00.000Z",
        "archived": False,
        "archivedAt": None,
        "propertiesWithHistory": {
            "dealstage": [
                {"value": v, "timestamp": t, "sourceType": "CRM_UI", "sourceId": "userId:1"} for v, t in history
            ]
        },
    }


def test_close_late_deal_cancellation_and_reopen(company: tuple[Path, Path], tmp_path: Path) -> None:
    landing, warehouse = company

    # order and state rules
    with pytest.raises(FinanceError, match="earlier period"):
        close_period(warehouse, "2025-02")
    with pytest.raises(FinanceError, match="not closed"):
        export_payouts(warehouse, "2025-01", tmp_path / "payroll.csv")
    with pytest.raises(FinanceError, match="YYYY-MM"):
        close_period(warehouse, "2025-1")

    closed = close(warehouse, "2025-01")
    assert closed["changed"] and closed["version"] == 1 and closed["lines"] > 0
    again = close(warehouse, "2025-01")
    assert not again["changed"] and "already closed" in again["message"]

    ledger_sql = "select * from ledger.payout_lines where period_month = '2025-01' order by payout_line_key"
    frozen = rows(warehouse, ledger_sql)
    january_net = scalar(
        warehouse, "select sum(net_payout_amount) from marts.mart_commissions_monthly where period_month = '2025-01'"
    )
    assert sum(r[14] for r in frozen) == january_net == Decimal(closed["net_amount"])

    # payroll file and statements tie to the mart
    export = export_payouts(warehouse, "2025-01", tmp_path / "payroll.csv")
    with export.path.open() as handle:
        payroll = list(csv.DictReader(handle))
    assert len(payroll) == export.row_count > 0 and not export.left_out
    paid = sum(-Decimal(r["amount"]) if r["earning_code"] == "COMM_REC" else Decimal(r["amount"]) for r in payroll)
    assert paid == export.totals["USD"].net == january_net  # earnings - deductions
    statements = write_statements(warehouse, "2025-01", tmp_path / "statements", pdf=False)
    assert sum(s.total for s in statements) == january_net
    assert all(s.csv_path.exists() and s.html_path.exists() for s in statements)

    # a rep on the AE plan in January, and a late deal of theirs that was cancelled in February
    employee_id, owner_id = rows(
        warehouse,
        "select segments.employee_id, reps.owner_id from intermediate.int_plan_segments_dated as segments "
        "join marts.dim_reps as reps on segments.employee_id = reps.employee_id and reps.owner_id is not null "
        "and reps.valid_from <= date '2025-01-20' and reps.valid_to > date '2025-01-20' "
        "where segments.period_month = '2025-01' and segments.plan_id = 'AE' "
        "and segments.segment_start_date <= date '2025-01-20' and segments.segment_end_date >= date '2025-01-20' "
        "order by 1 limit 1",
    )[0]
    # what January shows as closed, in every finance mart
    closed_views = {
        name: rows(warehouse, f"select * from marts.{name} where period_month = '2025-01' order by 1")
        for name in ("mart_commissions_monthly", "mart_commission_statements", "mart_commission_statement_summaries")
    }
    schedule_sql = (
        "select * exclude (built_at) from marts.mart_commission_expense_schedule "
        "where paid_period_month = '2025-01' order by schedule_key"
    )
    closed_schedule = rows(warehouse, schedule_sql)
    assert all(closed_views.values()) and closed_schedule

    late_file = landing / "crm" / "deals" / "2025-12-31_late.jsonl"
    late_file.write_text(json.dumps(late_cancelled_deal(owner_id)) + "\n", encoding="utf-8")
    summary = run_job(landing, warehouse)
    assert summary.success and not summary.checks_failed, summary.render()

    # the closed month did not move by a byte
    assert rows(warehouse, ledger_sql) == frozen
    assert (
        scalar(
            warehouse,
            "select count(*) from marts.fct_payouts where period_month = '2025-01' and "
            "(period_status <> 'closed' or ledger_version <> 1)",
        )
        == 0
    )

    computed_late = scalar(
        warehouse,
        "select sum(amount) from intermediate.int_payout_lines_computed "
        "where period_month = '2025-01' and deal_id = ? and employee_id = ?",
        [LATE_DEAL, employee_id],
    )
    assert computed_late > 0
    adjustments = rows(
        warehouse,
        "select corrects_deal_id, amount from marts.fct_payouts where period_month = '2025-02' "
        "and line_type = 'adjustment' and employee_id = ? and corrects_period_month = '2025-01'",
        [employee_id],
    )
    assert sum(a for deal, a in adjustments if deal == LATE_DEAL) == computed_late  # commission + multiplier
    rep_computed_january, rep_paid_january = rows(
        warehouse,
        "select (select coalesce(sum(amount), 0) from intermediate.int_payout_lines_computed "
        "        where period_month = '2025-01' and employee_id = $1), "
        "       (select coalesce(sum(amount), 0) from ledger.payout_lines where period_month = '2025-01' "
        "        and employee_id = $1 and line_type not in ('draw', 'draw_recovery'))",
        [employee_id],
    )[0]
    assert sum(a for _, a in adjustments) == rep_computed_january - rep_paid_january

    # closed means frozen: every January row of the finance marts is what was closed ...
    for name, closed_rows in closed_views.items():
        now = rows(warehouse, f"select * from marts.{name} where period_month = '2025-01' order by 1")
        assert now == closed_rows, name
    assert rows(warehouse, schedule_sql) == closed_schedule
    # ... and today's recomputation of January is visible beside it, explained by the adjustments
    late_credit = scalar(
        warehouse,
        "select sum(credited_amount) from marts.fct_credits where deal_id = ? and employee_id = ? "
        "and period_month = '2025-01' and credit_type = 'revenue'",
        [LATE_DEAL, employee_id],
    )
    closed_credit, recomputed_credit, difference, adjusted, differs = rows(
        warehouse,
        "select closed_credited_bookings_amount, recomputed_credited_bookings_amount, earnings_difference_amount, "
        "adjustment_amount, is_recomputed_differently from marts.mart_commission_recomputations "
        "where period_month = '2025-01' and employee_id = ?",
        [employee_id],
    )[0]
    assert late_credit > 0 and recomputed_credit - closed_credit == late_credit
    assert difference == adjusted == sum(a for _, a in adjustments) and differs
    assert closed_credit == scalar(
        warehouse,
        "select credited_bookings_amount from marts.mart_commissions_monthly "
        "where period_month = '2025-01' and employee_id = ?",
        [employee_id],
    )

    clawbacks = rows(
        warehouse,
        "select corrects_period_month, amount from marts.fct_payouts where period_month = '2025-02' "
        "and line_type = 'clawback' and deal_id = ? and employee_id = ?",
        [LATE_DEAL, employee_id],
    )
    assert clawbacks and {p for p, _ in clawbacks} == {"2025-01"}
    assert sum(a for _, a in clawbacks) == -computed_late
    # attainment of January is not reduced by the cancellation
    assert (
        scalar(
            warehouse,
            "select count(*) from marts.fct_credits where deal_id = ? and period_month = '2025-01' and is_cancelled",
            [LATE_DEAL],
        )
        >= 1
    )

    # reopen: logged, the old version stays; the next close is version 2 and absorbs the adjustment
    with pytest.raises(FinanceError, match="reason"):
        reopen_period(warehouse, "2025-01", " ")
    reopened = close(warehouse, "2025-01", "reopen", "late deal found before payroll")
    assert reopened["changed"]
    assert close(warehouse, "2025-01")["version"] == 2
    assert rows(
        warehouse,
        "select * exclude (ledger_version, closed_at) from ledger.payout_lines where period_month = '2025-01' "
        "and ledger_version = 1 order by payout_line_key",
    ) == [(*r[:18], *r[20:]) for r in frozen]  # every column but the version and close time
    assert rows(
        warehouse,
        "select action, ledger_version from ledger.period_events where period_month = '2025-01' order by acted_at",
    ) == [("close", 1), ("reopen", 1), ("close", 2)]
    assert (
        scalar(
            warehouse,
            "select count(distinct ledger_version) from marts.fct_payout_ledger "
            "where period_month = '2025-01' and is_current_version",
        )
        == 1
    )
    assert (
        scalar(
            warehouse,
            "select count(*) from marts.fct_payouts where period_month = '2025-02' and line_type = 'adjustment' "
            "and corrects_deal_id = ?",
            [LATE_DEAL],
        )
        == 0
    )
    assert (
        scalar(
            warehouse,
            "select sum(amount) from marts.fct_payouts "
            "where period_month = '2025-01' and deal_id = ? and employee_id = ?",
            [LATE_DEAL, employee_id],
        )
        == computed_late
    )
    # version 2 closed January with the late deal: its head now shows it, and nothing is left to explain
    assert rows(
        warehouse,
        "select monthly.credited_bookings_amount, recomputed.is_recomputed_differently "
        "from marts.mart_commissions_monthly as monthly join marts.mart_commission_recomputations as recomputed "
        "using (employee_id, period_month, currency_code) where period_month = '2025-01' and employee_id = ?",
        [employee_id],
    ) == [(recomputed_credit, False)]


def test_invalid_plan_stops_commissions_and_keeps_the_marts(company: tuple[Path, Path]) -> None:
    landing, warehouse = company
    finance = ("marts",)
    before = {
        k: v
        for k, v in table_fingerprints(warehouse, finance).items()
        if k.split(".")[1].startswith(("fct_payouts", "fct_credits", "mart_commission"))
    }
    plans_dir = landing / "plans" / "commission_plans"
    text = sorted(plans_dir.glob("*.yaml"))[-1].read_text(encoding="utf-8")
    broken = text.replace("to_attainment: 1.2", "to_attainment: 1.3", 1)  # AE band 2 now overlaps band 3
    assert broken != text
    (plans_dir / "2099-01-01_full.yaml").write_text(broken, encoding="utf-8")
    splits = landing / "plans" / "credit_splits"
    split_text = sorted(splits.glob("*.csv"))[-1].read_text(encoding="utf-8")
    (splits / "2099-01-01_full.csv").write_text(split_text + "12345,1001,revenue,40\n", encoding="utf-8")

    summary = run_job(landing, warehouse)
    assert summary.success and "intermediate/int_plan_rule_violations:plan_inputs_follow_the_rules" in (
        summary.checks_failed
    ), summary.render()
    assert summary.finance_held_back == ["intermediate/int_plan_rule_violations:plan_inputs_follow_the_rules"]
    assert "marts/fct_payouts" in summary.models_not_built and "marts/fct_deals" in summary.models_built
    messages = plan_rule_violations(warehouse)
    assert any("tiers_overlap" in m and "2099-01-01_full.yaml:" in m and "tiers[2]" in m for m in messages), messages
    assert any("splits_do_not_add_to_100" in m and "deal 12345" in m for m in messages), messages
    after = {k: v for k, v in table_fingerprints(warehouse, finance).items() if k in before}
    assert after == before
