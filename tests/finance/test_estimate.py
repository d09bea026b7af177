"""The what-if estimator (finance/estimate.py, `spm estimate`): its answer is what the engine pays
once the deal is actually loaded, and the warehouse is untouched by an estimate."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from finance.estimate import Estimate, HypotheticalDeal, estimate
from spm.cli import main
from tests.job_runs import run_warehouse_job
from tests.small_company import Company, built_small_company

CLOSE_DATE = dt.date(2025, 12, 15)
PERIOD = "2025-12"
AMOUNT = Decimal("37500.00")
TERM = 24


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory, dbt_manifest: Path) -> Company:
    return built_small_company(tmp_path_factory).copy_to(tmp_path_factory.mktemp("estimate"))


def rows(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def rep_in_december(warehouse: Path) -> tuple[str, str, str]:
    """A rep on a plan that pays a rate table on revenue credits on the close date, with their CRM
    owner id and plan currency (a manager's plan pays only the team's overlay)."""
    return rows(
        warehouse,
        "select segments.employee_id, reps.owner_id, segments.currency_code "
        "from intermediate.int_plan_segments_dated as segments "
        "join marts.dim_reps as reps on segments.employee_id = reps.employee_id and reps.owner_id is not null "
        "and reps.valid_from <= ? and reps.valid_to > ? "
        "where segments.period_month = ? and ? between segments.segment_start_date and segments.segment_end_date "
        "and segments.plan_version_key in (select plan_version_key from staging.stg_plans__plan_components "
        "where component_type = 'rate_table' and credit_type = 'revenue') "
        "order by 1 limit 1",
        [CLOSE_DATE, CLOSE_DATE, PERIOD, CLOSE_DATE],
    )[0]


def won_deal(owner_id: str, currency: str) -> dict:
    """The hypothetical deal as the CRM delivers it once won (shaped like the landing folder's deals)."""
    history = [("closedwon", "2025-12-15T16:00:00.000Z"), ("appointmentscheduled", "2025-11-20T09:00:00.000Z")]
    return {
        "id": "90000001",
        "properties": {
            "dealname": "What-if Corp - New business",
            "pipeline": "default",
            "dealstage": "closedwon",
            "amount": str(AMOUNT),
            "deal_currency_code": currency,
            "closedate": "2025-12-15T16:00:00.000Z",
            "createdate": "2025-11-20T09:00:00.000Z",
            "hs_lastmodifieddate": "2025-12-15T16:00:00.000Z",
            "hubspot_owner_id": owner_id,
            "dealtype": "newbusiness",
            "closed_lost_reason": None,
            "contract_term_months": str(TERM),
        },
        "createdAt": "2025-11-20T09:00:00.000Z",
        "updatedAt": "2025-12-15T16:00:00.000Z",
        "archived": False,
        "archivedAt": None,
        "propertiesWithHistory": {
            "dealstage": [
                {"value": v, "timestamp": t, "sourceType": "CRM_UI", "sourceId": "userId:1"} for v, t in history
            ]
        },
    }


def line_shape(line_type: str, component: str, tier: int | None, rate: Decimal | None, amount: Decimal) -> tuple:
    return (line_type, component, tier, None if rate is None else Decimal(rate).normalize(), Decimal(amount))


def test_estimate_equals_what_the_engine_pays_once_the_deal_is_loaded(company: Company) -> None:
    employee_id, owner_id, currency = rep_in_december(company.warehouse)
    before = digest(company.warehouse)

    result: Estimate = estimate(
        company.warehouse,
        employee_id,
        [HypotheticalDeal(AMOUNT, CLOSE_DATE, deal_type="newbusiness", contract_term_months=TERM)],
    )

    # nothing was written to the warehouse
    assert digest(company.warehouse) == before
    assert not company.warehouse.with_name(company.warehouse.name + ".wal").exists()
    [period] = result.periods
    assert period.period_month == PERIOD and result.plan_currency == currency
    engine_before = rows(
        company.warehouse,
        "select coalesce(sum(amount), 0) from intermediate.int_payout_lines_computed "
        "where employee_id = ? and period_month = ?",
        [employee_id, PERIOD],
    )[0][0]
    assert period.total_without.get(currency, Decimal(0)) == engine_before
    assert period.total_with[currency] > period.total_without.get(currency, Decimal(0))
    assert any(line.is_hypothetical for line in period.with_deals)
    assert period.ytd_with[currency] - period.ytd_without.get(currency, Decimal(0)) == (
        period.total_with[currency] - period.total_without.get(currency, Decimal(0))
    )
    assert "what-if-1" in result.text and PERIOD in result.text

    # the deal actually won and loaded: the engine pays what the estimate said, to the cent
    deal_file = company.landing / "crm" / "deals" / "2025-12-31_whatif.jsonl"
    deal_file.write_text(json.dumps(won_deal(owner_id, currency)) + "\n", encoding="utf-8")
    assert run_warehouse_job(company.landing, company.warehouse).success
    engine_lines = rows(
        company.warehouse,
        "select deal_id, line_type, component_id, tier_number, rate, amount, currency_code "
        "from intermediate.int_payout_lines_computed where employee_id = ? and period_month = ?",
        [employee_id, PERIOD],
    )
    assert sum(row[5] for row in engine_lines) == period.total_with[currency]
    assert all(row[6] == currency for row in engine_lines)
    engine_shapes = sorted(line_shape(*row[1:6]) for row in engine_lines if row[0] == "90000001")
    estimated_shapes = sorted(
        line_shape(line.line_type, line.component_id, line.tier_number, line.rate, line.amount)
        for line in period.with_deals
        if line.is_hypothetical
    )
    assert engine_shapes == estimated_shapes and engine_shapes


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--rep", "no-such-rep", "--deal-amount", "1000", "--close-date", "2025-12-15"], "unknown rep 'no-such-rep'"),
        (["--deal-amount", "1000", "--close-date", "2025-12-32"], "deal 1: --close-date '2025-12-32' is not a date"),
        (["--deal-amount", "-5", "--close-date", "2025-12-15"], "deal 1: amount -5 must be a positive number"),
        (
            ["--deal-amount", "1000", "--close-date", "2025-12-15", "--split", "150"],
            "deal 1: split 150 must be above 0",
        ),
        (["--deal-amount", "1000", "--close-date", "2025-12-15", "--currency", "XYZ"], "deal 1: no FX rate for XYZ"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    company: Company, arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    employee_id = rep_in_december(company.warehouse)[0]
    if "--rep" not in arguments:
        arguments = ["--rep", employee_id, *arguments]
    before = digest(company.warehouse)
    assert main(["estimate", *arguments, "--warehouse", str(company.warehouse)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("spm estimate: ") and message in err and len(err.splitlines()) == 1, err
    assert digest(company.warehouse) == before
