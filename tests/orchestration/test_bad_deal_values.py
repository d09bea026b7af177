"""One bad CRM value, or one bad quota, never breaks the build (issue 37, item 4).

A copy of the generated `small` company gets one delivery with a bad deal per case (new versions
of won deals in a CRM delta file) and a quota of "50,000" in its plans file, and is built once by
the job. Each bad deal must be a reject with its reason, file and line, every other deal must be
built, no dbt model may fail, and the run summary must name the rejects and the plan rule. A
close date in 9999 is booked, with a warning of the deals suite. A second delivery then takes a
currency's FX rates away and gives the missing one: an incremental build re-checks the staged
deals against the rates it now has.
"""

from __future__ import annotations

import copy
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from finance.periods import plan_rule_violations
from spm.run_summary import RunSummary, rejected_rows
from tests.job_runs import run_warehouse_job, summarise_run
from tests.small_company import FULL_BATCH, Company, small_landing

DELTA = "crm/deals/2026-01-02_delta-0000.jsonl"
UPDATED_AT = "2026-01-02T09:00:00.000Z"
QUOTAS = f"plans/quotas/{FULL_BATCH}.csv"
WINDOW = "close date outside 2000-01-01 to 9999-12-31"
OUT_OF_RANGE = "amount out of range (must be below 1000000000000 in absolute value)"
NO_FX = "no FX rate for the currency in or before the deal month (plans/fx_rates)"


@dataclass(frozen=True)
class Case:
    name: str
    properties: dict[str, str | None]
    reason: str
    field: str
    value: str | None


#: One bad deal per case, in this order on the lines of the delta file.
CASES = (
    Case("empty amount", {"amount": ""}, "deal has no amount", "amount", "null"),
    Case("null amount", {"amount": None}, "deal has no amount", "amount", "null"),
    Case("currency without FX rate", {"deal_currency_code": "CHF"}, NO_FX, "deal_currency_code", None),
    Case("close date 1900 (ISO)", {"closedate": "1900-01-01T00:00:00.000Z"}, WINDOW, "closedate", None),
    Case("close date 1900 (epoch ms)", {"closedate": "-2208988800000"}, WINDOW, "closedate", "-2208988800000"),
    Case(
        "epoch ms beyond the timestamp range",
        {"closedate": "9999999999999999"},
        "not an ISO-8601 timestamp or epoch milliseconds",
        "closedate",
        "9999999999999999",
    ),
    Case(
        "stage not in the pipelines",
        {"dealstage": "nosuchstage"},
        "stage is not a stage of the pipeline",
        "dealstage",
        "default / nosuchstage",
    ),
    Case(
        "17-digit EUR amount (overflows DECIMAL(18, 2))",
        {"amount": "10598139999999999.99", "deal_currency_code": "EUR"},
        OUT_OF_RANGE,
        "amount",
        "10598139999999999.99",
    ),
    Case(
        "16-digit EUR amount (overflows when converted)",
        {"amount": "9998139999999999.99", "deal_currency_code": "EUR"},
        OUT_OF_RANGE,
        "amount",
        "9998139999999999.99",
    ),
    Case(
        "EUR amount over the limit once converted",
        {"amount": "999999999999.00", "deal_currency_code": "EUR"},
        "amount in the reporting currency out of range (must be below 1000000000000 in absolute value)",
        "amount",
        "999999999999.00",
    ),
)
FAR_CLOSE = {"closedate": "9999-12-15T16:00:00.000Z"}


@dataclass(frozen=True)
class Built:
    company: Company
    summary: RunSummary
    rendered: str
    deal_ids: dict[str, str]  # case name -> deal id
    far_deal_id: str


def query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(sql, params or []).fetchall()


def won_deals(landing: Path) -> list[dict]:
    path = landing / f"crm/deals/{FULL_BATCH}-0000.jsonl"
    deals = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return [d for d in deals if d["properties"]["dealstage"] == "closedwon" and not d["archived"]]


def version(deal: dict, properties: dict[str, str | None]) -> dict:
    changed = copy.deepcopy(deal)
    changed["updatedAt"] = UPDATED_AT
    changed["properties"].update(properties)
    return changed


def run(company: Company) -> RunSummary:
    """The job, summarised as `spm run` prints it (rejects and plan rules included)."""
    summary = summarise_run(run_warehouse_job(company.landing, company.warehouse), company.warehouse, company.landing)
    summary.rejects = rejected_rows(company.warehouse)
    summary.plan_problems = plan_rule_violations(company.warehouse)
    return summary


@pytest.fixture(scope="module")
def built(dbt_manifest: Path, tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The small company with every bad value in one delivery, built once. Do not mutate: copy it."""
    root = tmp_path_factory.mktemp("bad_deal_values")
    company = Company(root / "landing", root / "warehouse" / "w.duckdb")
    shutil.copytree(small_landing(tmp_path_factory), company.landing)
    deals = won_deals(company.landing)
    bad = [version(deal, case.properties) for deal, case in zip(deals, CASES, strict=False)]
    far = version(deals[len(CASES)], FAR_CLOSE)
    (company.landing / DELTA).write_text("".join(json.dumps(d) + "\n" for d in [*bad, far]), encoding="utf-8")
    quotas = company.landing / QUOTAS
    lines = quotas.read_text(encoding="utf-8").splitlines(keepends=True)
    assert lines[3].split(",")[2] == "65000.00"
    lines[3] = lines[3].replace("65000.00", '"50,000"')
    quotas.write_text("".join(lines), encoding="utf-8")

    summary = run(company)
    return Built(
        company, summary, summary.render(), {c.name: d["id"] for c, d in zip(CASES, bad, strict=True)}, far["id"]
    )


def test_no_model_fails_and_the_other_deals_are_built(built: Built) -> None:
    summary, warehouse = built.summary, built.company.warehouse
    assert summary.success and summary.errors == [], built.rendered
    for mart in ("marts/fct_deals", "marts/fct_quotas", "marts/mart_sales_kpis", "marts/fct_deal_stage_transitions"):
        assert mart in summary.models_built, built.rendered
    # only the commission models wait, held back by the gates (deals suite, plan rules)
    assert all(
        name.startswith(
            (
                "intermediate/int_",
                "marts/fct_payout",
                "marts/fct_credits",
                "marts/mart_commission",
                "marts/mart_payroll",
                "marts/mart_payout_lineage",
            )
        )
        for name in summary.models_not_built
    ), summary.models_not_built
    raw = query(warehouse, "select count(*) from raw_crm.deals")[0][0]
    staged = query(warehouse, "select count(*) from staging.stg_crm__deals")[0][0]
    facts = query(warehouse, "select count(*) from marts.fct_deals")[0][0]
    assert staged == facts == raw - len(CASES)
    assert (
        query(
            warehouse,
            "select count(*) from marts.fct_deals where deal_id in (select unnest(?))",
            [list(built.deal_ids.values())],
        )[0][0]
        == 0
    )
    assert not any(
        name.endswith(("every_raw_row_is_staged_or_rejected", "staged_deals_are_fit_for_facts"))
        for name in summary.checks_failed
    ), built.rendered


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_deal_is_rejected_with_reason_file_and_line(built: Built, case: Case) -> None:
    deal_id = built.deal_ids[case.name]
    line = CASES.index(case) + 1
    rows = query(
        built.company.warehouse,
        "select rejected_at_step, reason, field, rejected_value, source_file, source_line "
        "from rejects.rejects_crm__deals where record_id = ?",
        [deal_id],
    )
    assert len(rows) == 1, rows
    step, reason, field, value, source_file, source_line = rows[0]
    assert (step, reason, field, source_file, source_line) == ("staging", case.reason, case.field, DELTA, line)
    if case.value is not None:
        assert value == case.value
    # the summary names the reason, and the record, file and line of the first deal rejected for it
    (entry,) = [r for r in built.summary.rejects if r[:2] == ("crm.deals", case.reason)]
    first_line = min(CASES.index(c) + 1 for c in CASES if c.reason == case.reason)
    assert entry[3].endswith(f"at {DELTA}:{first_line}") and f"crm.deals: {entry[2]} {case.reason} - " in (
        built.rendered
    )


def test_no_fx_rate_value_names_currency_and_month(built: Built) -> None:
    (value,) = query(
        built.company.warehouse,
        "select rejected_value from rejects.rejects_crm__deals where record_id = ?",
        [built.deal_ids["currency without FX rate"]],
    )[0]
    assert value.startswith("CHF 20"), value


def test_unparseable_quota_is_a_plan_rule_violation_with_file_and_line(built: Built) -> None:
    assert any(message.startswith(f"{QUOTAS}:4: quota_invalid") for message in built.summary.plan_problems), (
        built.summary.plan_problems
    )
    assert f"{QUOTAS}:4: quota_invalid" in built.rendered
    assert "intermediate/int_plan_rule_violations:plan_inputs_follow_the_rules" in built.summary.finance_held_back
    # fct_quotas is built without it (the other 299 quotas)
    assert query(built.company.warehouse, "select count(*) from marts.fct_quotas")[0][0] == 299


def test_close_date_in_9999_is_booked_with_a_warning(built: Built) -> None:
    warehouse = built.company.warehouse
    assert query(
        warehouse, "select cast(close_date as varchar) from marts.fct_deals where deal_id = ?", [built.far_deal_id]
    ) == [("9999-12-15",)]
    (result,) = query(
        warehouse,
        "select e.severity, e.success, e.examples from quality.expectation_results e "
        "join quality.suite_validations v using (validation_id) "
        "where v.suite = 'crm_deals' and e.summary like 'close date is at most a year after%'",
    )
    severity, success, examples = result
    assert (severity, success) == ("warning", False)
    assert [(e["_source_file"], e["_source_line"]) for e in json.loads(examples)] == [(DELTA, len(CASES) + 1)]


def test_reference_data_changes_recheck_staged_deals(built: Built, tmp_path: Path) -> None:
    """A new FX snapshot without GBP and with CHF: every GBP deal is held back (no fact fails on a
    rate it lost), the CHF deal is released."""
    company = built.company.copy_to(tmp_path)
    fx = company.landing / "plans/fx_rates"
    lines = (fx / f"{FULL_BATCH}.csv").read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if ",GBP," not in line]
    chf = [line.replace(",EUR,", ",CHF,") for line in lines if ",EUR," in line]
    (fx / "2026-01-02_full.csv").write_text("\n".join(kept + chf) + "\n", encoding="utf-8")

    summary = run(company)

    assert summary.success and summary.errors == [], summary.render()
    warehouse = company.warehouse
    gbp = query(
        warehouse,
        "select count(*) from raw_crm.deals where upper(deal_currency_code) = 'GBP' and id not in (select unnest(?))",
        [list(built.deal_ids.values())],
    )[0][0]
    held_back = query(
        warehouse,
        "select count(*) from rejects.rejects_crm__deals where reason = ? and rejected_value like 'GBP %'",
        [NO_FX],
    )[0][0]
    assert gbp > 0 and held_back == gbp
    assert query(warehouse, "select count(*) from marts.fct_deals where currency_code = 'GBP'")[0][0] == 0
    assert (
        query(
            warehouse,
            "select count(*) from marts.fct_deals where deal_id = ?",
            [built.deal_ids["currency without FX rate"]],
        )[0][0]
        == 1
    )
