"""Disputes and manual adjustments (plans/manual_adjustments; docs/commission_plans.md) on the `small` company.

One private copy goes through two deliveries of the register, one warehouse job each: a valid
register (approved adjustments posted in their pay period, rejected and requested ones not, the
payout scope re-deriving only that rep), then, after January is closed with one adjustment frozen
in it, a register with one mistake per line (each a rule violation naming file, line, adjustment
and field; finance held back; the frozen adjustment not reported).
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from finance.ledger import close_period, close_through
from finance.periods import plan_rule_violations
from finance.statements import write_statements
from ingestion.landing import entity_files, system_dir
from ingestion.plans import CSV_ENTITIES
from spm.run_summary import RunSummary
from tests.job_runs import run_warehouse_job, summarise_run
from tests.small_company import Company, built_small_company

REGISTER = Path("plans/manual_adjustments")
COLUMNS = CSV_ENTITIES["manual_adjustments"][0]
GATE = "intermediate/int_plan_rule_violations:plan_inputs_follow_the_rules"


def rows(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def write_register(landing: Path, name: str, records: list[dict[str, str]]) -> str:
    """The register as finance keeps it: one CSV with every documented column; returns its landing path."""
    folder = landing / REGISTER
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / name).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows({column: record.get(column, "") for column in COLUMNS} for record in records)
    return f"{REGISTER.as_posix()}/{name}"


def adjustment(adjustment_id: str, employee_id: str, **fields: str) -> dict[str, str]:
    """A valid approved adjustment paid in June 2025, with ``fields`` changed."""
    record = {
        "adjustment_id": adjustment_id,
        "employee_id": employee_id,
        "amount": "125.50",
        "currency": "USD",
        "category": "wrong_split",
        "reason": "the split on this deal was 50/50, not 70/30",
        "requested_by": "Rep Requester",
        "requested_on": "2025-06-02",
        "status": "approved",
        "approved_by": "Ann Approver",
        "approved_on": "2025-06-10",
        "pay_period": "2025-06",
    }
    return record | fields


@dataclass(frozen=True)
class Delivery:
    """A run on a delivered register: the landing path of the file, the run summary and the violations."""

    file: str
    summary: RunSummary
    violations: list[str]


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory, dbt_manifest: Path) -> Company:
    """A private copy of the session's built company (no register: the folder is optional)."""
    source = built_small_company(tmp_path_factory)
    assert not (source.landing / REGISTER).exists()
    return source.copy_to(tmp_path_factory.mktemp("manual_adjustments"))


@pytest.fixture(scope="module")
def rep(company: Company) -> tuple[str, str, str]:
    """A rep on a USD plan in the go-live month, June and July 2025, one of the deals, and the go-live month."""
    go_live = rows(company.warehouse, "select min(go_live_month) from intermediate.int_payout_periods_classified")[0][0]
    employee = rows(
        company.warehouse,
        "select min(employee_id) from ("
        "  select employee_id from intermediate.int_plan_segments_dated"
        "  where period_month in (?, '2025-06', '2025-07') and currency_code = 'USD'"
        "  group by employee_id having count(distinct period_month) = 3"
        ")",
        [go_live],
    )[0][0]
    deal = rows(company.warehouse, "select min(deal_id) from marts.fct_deals")[0][0]
    assert employee and deal and go_live < "2025-06"
    return employee, deal, go_live


def deliver(company: Company, name: str, records: list[dict[str, str]]) -> Delivery:
    """The register ``name`` with ``records`` delivered, then one warehouse job (and publish)."""
    file = write_register(company.landing, name, records)
    result = run_warehouse_job(company.landing, company.warehouse)
    summary = summarise_run(result, company.warehouse, company.landing)
    return Delivery(file, summary, plan_rule_violations(company.warehouse))


@pytest.fixture(scope="module")
def valid_delivery(company: Company, rep: tuple[str, str, str]) -> Delivery:
    employee, deal, _ = rep
    return deliver(
        company,
        "2026-01-01_full.csv",
        [
            adjustment("A-1", employee, deal_id=deal, corrects_period="2025-03"),
            adjustment("A-2", employee, status="rejected", reason="the rate was right"),
            adjustment("A-3", employee, status="requested", approved_by="", approved_on="", pay_period=""),
            # no pay period: paid in the month it was approved
            adjustment(
                "A-4",
                employee,
                amount="-30",
                category="other",
                reason="SPIF paid twice",
                pay_period="",
                approved_on="2025-07-03",
            ),
        ],
    )


def test_approved_adjustments_are_posted_in_their_pay_period(
    company: Company, rep: tuple[str, str, str], valid_delivery: Delivery, tmp_path: Path
) -> None:
    employee, deal, _ = rep
    assert valid_delivery.summary.success and valid_delivery.violations == [], valid_delivery.summary.render()
    assert valid_delivery.summary.finance_held_back == []
    posted = rows(
        company.warehouse,
        "select adjustment_id, payout_line_key, period_month, employee_id, amount, currency_code, line_type, "
        "corrects_period_month, corrects_deal_id, category, requested_by, approved_by, rule_applied, "
        "plan_version_key is not null from intermediate.int_manual_adjustments_posted order by adjustment_id",
    )
    assert posted == [
        (
            "A-1",
            f"{employee}|2025-06|manual_adjustment|A-1",
            "2025-06",
            employee,
            Decimal("125.50"),
            "USD",
            "manual_adjustment",
            "2025-03",
            deal,
            "wrong_split",
            "Rep Requester",
            "Ann Approver",
            f"manual adjustment A-1 (wrong split on deal {deal}, 2025-03): the split on this deal was 50/50, "
            "not 70/30; requested by Rep Requester on 2025-06-02, approved by Ann Approver on 2025-06-10",
            True,
        ),
        (
            "A-4",
            f"{employee}|2025-07|manual_adjustment|A-4",
            "2025-07",
            employee,
            Decimal("-30.00"),
            "USD",
            "manual_adjustment",
            None,
            None,
            "other",
            "Rep Requester",
            "Ann Approver",
            "manual adjustment A-4 (other): SPIF paid twice; requested by Rep Requester on 2025-06-02, "
            "approved by Ann Approver on 2025-07-03",
            True,
        ),
    ]
    # the rejected and the requested one are kept in staging with their status
    staged = rows(
        company.warehouse,
        "select adjustment_id, status, pay_period_month, _source_file, _source_line "
        "from staging.stg_plans__manual_adjustments order by adjustment_id",
    )
    assert staged == [
        ("A-1", "approved", "2025-06", valid_delivery.file, 2),
        ("A-2", "rejected", "2025-06", valid_delivery.file, 3),
        ("A-3", "requested", None, valid_delivery.file, 4),
        ("A-4", "approved", "2025-07", valid_delivery.file, 5),
    ]
    # the payout scope saw the register: only this rep's rows are re-derived, from the first pay period on
    scope = rows(
        company.warehouse,
        "select scope_key, rederive_from_month from intermediate.int_payout_scope_detected "
        "where fingerprint_month = '' and rederive_from_month is not null",
    )
    assert scope == [(employee, "2025-06")]

    # paid: a payout line of June with its register line, in the monthly mart and on the statement ...
    paid = rows(
        company.warehouse,
        "select amount, rule_source_file, rule_source_line, rule_source_location from marts.fct_payouts "
        "where line_type = 'manual_adjustment' and period_month = '2025-06' and employee_id = ?",
        [employee],
    )
    assert paid == [(Decimal("125.50"), valid_delivery.file, 2, "adjustment A-1")]
    assert rows(
        company.warehouse,
        "select manual_adjustment_amount from marts.mart_commissions_monthly "
        "where period_month = '2025-06' and employee_id = ?",
        [employee],
    ) == [(Decimal("125.50"),)]
    statements = write_statements(company.warehouse, "2025-06", company.warehouse.parent / "statements", pdf=False)
    (statement,) = [s for s in statements if s.employee_id == employee]
    page = statement.html_path.read_text(encoding="utf-8")
    assert "Manual adjustments (approved inquiries)" in page and "approved by Ann Approver on 2025-06-10" in page
    # ... and frozen in the ledger when June closes, with its reason (on a copy: the next test's
    # register pays in June, which must stay open)
    frozen = company.copy_to(tmp_path / "frozen").warehouse
    close_through(frozen, "2025-06", acted_by="test")
    assert rows(
        frozen,
        "select amount, rule_applied like 'manual adjustment A-1 %' from ledger.payout_lines "
        "where line_type = 'manual_adjustment' and period_month = '2025-06' and employee_id = ?",
        [employee],
    ) == [(Decimal("125.50"), True)]


@pytest.fixture(scope="module")
def invalid_delivery(company: Company, rep: tuple[str, str, str], valid_delivery: Delivery) -> Delivery:
    """January closed with F-1 and F-2 frozen in it (as the payouts will carry an approved
    adjustment), then a register with one mistake per line."""
    employee, _, go_live = rep
    january = close_period(company.warehouse, go_live, acted_by="test")
    with duckdb.connect(str(company.warehouse)) as con:
        for adjustment_id, amount in (("F-1", "75.00"), ("F-2", "20.00")):
            con.execute(
                "insert into ledger.payout_lines (payout_line_key, period_month, period_start_date, employee_id, "
                "line_type, amount, currency_code, ledger_version, closed_at) "
                "values (?, ?, ?, ?, 'manual_adjustment', ?, 'USD', ?, current_timestamp)",
                [
                    f"{employee}|{go_live}|manual_adjustment|{adjustment_id}",
                    go_live,
                    dt.date.fromisoformat(f"{go_live}-01"),
                    employee,
                    Decimal(amount),
                    january.version,
                ],
            )
    before_go_live = (dt.date.fromisoformat(f"{go_live}-01") - dt.timedelta(days=1)).strftime("%Y-%m")
    closed = {"pay_period": go_live, "approved_on": f"{go_live}-20", "requested_on": f"{go_live}-02"}
    return deliver(
        company,
        "2026-01-02_full.csv",
        [
            adjustment("B-1", "no-such-rep", status="requested", approved_by="", approved_on=""),  # line 2
            adjustment("B-2", employee, approved_by=""),
            adjustment("B-3", employee, approved_on=""),
            adjustment("B-4", employee, status="pending"),
            adjustment("B-5", employee, category="typo"),
            adjustment("B-6", employee, amount="12,50"),
            adjustment("B-7", employee, amount="0.00"),
            adjustment("B-8", employee, currency="eur"),
            adjustment("B-9", employee, pay_period="2025-6"),  # line 10
            adjustment("B-10", employee, pay_period=before_go_live),
            adjustment("B-11", employee, **closed),
            adjustment("F-1", employee, amount="75", **closed),  # frozen at the close: fine
            adjustment("F-2", employee, amount="25", **closed),  # frozen at 20, changed since
            adjustment("B-1", employee, status="requested"),  # line 15
            adjustment("B-12", employee, deal_id="no-such-deal"),
            adjustment("B-13", employee, requested_on="yesterday"),
            adjustment("B-14", employee, corrects_period="2025/03"),
        ],
    )


def test_each_mistake_in_the_register_is_a_rule_violation_with_file_line_and_field(
    company: Company, rep: tuple[str, str, str], invalid_delivery: Delivery
) -> None:
    employee, _, go_live = rep
    file, summary = invalid_delivery.file, invalid_delivery.summary
    assert GATE in summary.checks_failed and summary.finance_held_back == [GATE], summary.render()
    assert "intermediate/int_manual_adjustments_posted" in summary.models_not_built
    before_go_live = (dt.date.fromisoformat(f"{go_live}-01") - dt.timedelta(days=1)).strftime("%Y-%m")
    assert invalid_delivery.violations == [
        f"{file}:2 employee_id: adjustment_unknown_rep - adjustment B-1: employee no-such-rep is not in the HRIS",
        f"{file}:3 approved_by: adjustment_not_approved - adjustment B-2 is approved but approved_by is empty: "
        "name the approver",
        f"{file}:4 approved_on: adjustment_not_approved - adjustment B-3 is approved but approved_on is empty",
        f"{file}:5 status: adjustment_status_unknown - adjustment B-4: status pending is not requested, approved "
        "or rejected",
        f"{file}:6 category: adjustment_category_unknown - adjustment B-5: category typo is not missing_deal, "
        "wrong_split, wrong_rate or other",
        f"{file}:7 amount: adjustment_amount_invalid - adjustment B-6: amount 12,50 is not a non-zero number",
        f"{file}:8 amount: adjustment_amount_invalid - adjustment B-7: amount 0.00 is not a non-zero number",
        f"{file}:9 currency: adjustment_currency_mismatch - adjustment B-8: currency EUR is not USD, the currency "
        "of the rep's plan in 2025-06",
        f"{file}:10 pay_period: adjustment_period_malformed - adjustment B-9: pay_period 2025-6 is not a month YYYY-MM",
        f"{file}:11 pay_period: adjustment_before_go_live - adjustment B-10: pay period {before_go_live} is before "
        f"the go-live period {go_live} (history is never paid)",
        f"{file}:11 currency: adjustment_currency_mismatch - adjustment B-10: employee {employee} has no plan in "
        f"{before_go_live}",
        f"{file}:12 pay_period: adjustment_period_closed - adjustment B-11: pay period {go_live} is closed and did "
        "not pay it; set pay_period to an open period",
        f"{file}:14 amount: adjustment_changed_after_close - adjustment F-2 was paid 20.00 USD in closed {go_live} "
        "and now reads 25.00 USD; restore it and record the difference as a new adjustment",
        f"{file}:15 adjustment_id: adjustment_id_duplicate - adjustment_id B-1 is already on line 2 (one line per "
        "adjustment)",
        f"{file}:16 deal_id: adjustment_unknown_deal - adjustment B-12: deal no-such-deal is not in the CRM",
        f"{file}:17 requested_on: adjustment_date_invalid - adjustment B-13: requested_on yesterday is not a date "
        "(YYYY-MM-DD)",
        f"{file}:18 corrects_period: adjustment_period_malformed - adjustment B-14: corrects_period 2025/03 is not "
        "a month YYYY-MM",
    ]


def test_the_register_is_optional(tmp_path: Path) -> None:
    """A landing folder without plans/manual_adjustments is a company without disputes, not a layout error."""
    from tests.tiny_landing import write_tiny_landing

    landing = write_tiny_landing(tmp_path / "landing")
    assert not (landing / REGISTER).exists()
    system_dir(landing, "plans")
    assert entity_files(landing, "plans", "manual_adjustments") == []
