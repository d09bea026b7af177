"""The quality suites on the generated `small` company: clean data passes, seeded bad data fails
with file and line, bad rows are kept as rejects, the finance marts are held back untouched, and a
corrected delivery releases them."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import duckdb
import pytest

from spm.cli import main
from spm.run_summary import RunSummary
from tests.job_runs import run_warehouse_job, summarise_run
from tests.small_company import Company, small_landing
from tests.warehouse_checks import count, table_fingerprints

FINANCE_MARTS = (
    "fct_credits",
    "fct_payouts",
    "mart_commissions_monthly",
    "mart_commission_statements",
    "mart_commission_expense_schedule",
    "mart_commission_statement_summaries",
    "mart_payroll_lines",
    "mart_commission_recomputations",
)
#: The audit trail's columns: which delivery (file, line, load) each input of a line came from.
PROVENANCE_COLUMNS = {
    "deal_updated_at",
    "deal_source_file",
    "deal_source_line",
    "deal_load_id",
    "statement_reference",
    "split_source_file",
    "split_source_line",
    "quota_source_file",
    "quota_source_line",
    "rule_source_file",
    "rule_source_line",
    "rule_source_location",
}
SUITES = {
    "gx_crm_deals",
    "gx_crm_calls",
    "gx_crm_emails",
    "gx_crm_meetings",
    "gx_hris_employees",
    "gx_surveys_answers",
    "gx_plans_quotas",
    "gx_plans_assignments",
}


def run_job(company: Company) -> RunSummary:
    """The warehouse job on a company, as `spm run` runs it."""
    return summarise_run(run_warehouse_job(company.landing, company.warehouse), company.warehouse, company.landing)


@pytest.fixture(scope="module")
def built(dbt_manifest: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Company, RunSummary]:
    """The small company loaded and built once by the job (clean data). Do not mutate: copy it."""
    root = tmp_path_factory.mktemp("quality_built")
    landing = root / "landing"
    shutil.copytree(small_landing(tmp_path_factory), landing)
    company = Company(landing, root / "warehouse" / "w.duckdb")
    return company, run_job(company)


def finance_fingerprints(warehouse: Path, through: str | None = None) -> dict[str, tuple[int, int]]:
    """The finance marts' fingerprints; with ``through`` ('YYYY-MM'), only their rows of the commission
    periods up to it (a later delivery moves the data's as-of date, and with it the horizon: the
    new month's rows are not a change to the months before), without the audit trail's columns
    naming the deliveries (a corrected delivery is a newer version of the same deal and quota rows)."""
    if through is None:
        marts = table_fingerprints(warehouse, ("marts",))
        return {name: marts[f"marts.{name}"] for name in FINANCE_MARTS}
    result = {}
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        for name in FINANCE_MARTS:
            period = "paid_period_month" if name == "mart_commission_expense_schedule" else "period_month"
            kept = [
                column
                for (column,) in connection.execute(
                    "select column_name from information_schema.columns where table_schema = 'marts' "
                    "and table_name = ? order by ordinal_position",
                    [name],
                ).fetchall()
                if column not in PROVENANCE_COLUMNS
            ]
            values = ", ".join(f'"{column}" := "{column}"' for column in kept)
            result[name] = connection.execute(
                f"select count(*), coalesce(bit_xor(hash(struct_pack({values}))), 0) from marts.{name} "
                f"where {period} <= ?",
                [through],
            ).fetchone()
    return result


def finance_files(warehouse: Path) -> dict[str, bytes]:
    """Each finance mart exported as Parquet, byte for byte (same rows in the same order, same types)."""
    exported = {}
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        for name in FINANCE_MARTS:
            out = warehouse.parent / f"{name}.parquet"
            connection.execute(f"copy (select * from marts.{name} order by all) to '{out}' (format parquet)")
            exported[name] = out.read_bytes()
            out.unlink()
    return exported


def run_job_summary_from_last_run(company: Company) -> RunSummary:
    """The summary of the last `spm run` on ``company``, read back from the Dagster instance it recorded in."""
    import dagster as dg

    from orchestration.definitions import build_definitions
    from orchestration.defs.schedules import WAREHOUSE_SELECTION
    from spm.job_runner import dagster_instance
    from spm.run_summary import summarise_recorded_run

    instance = dagster_instance()
    (run,) = instance.get_runs(filters=dg.RunsFilter(job_name="warehouse_job"), limit=1)
    graph = build_definitions(company.warehouse, company.landing).resolve_asset_graph()
    return summarise_recorded_run(instance, run.run_id, graph, WAREHOUSE_SELECTION.resolve(graph))


def first_line(path: Path) -> dict:
    return json.loads(sorted(path.glob("*.jsonl"))[0].read_text().splitlines()[0])


def nth_line(path: Path, n: int) -> dict:
    return json.loads(sorted(path.glob("*.jsonl"))[0].read_text().splitlines()[n])


def test_clean_company_passes_every_suite(built: tuple[Company, RunSummary]) -> None:
    company, summary = built
    assert summary.success, summary.render()
    assert summary.checks_failed == [] and summary.finance_held_back == []
    with duckdb.connect(str(company.warehouse), read_only=True) as connection:
        validations = connection.execute(
            "select suite, rows_evaluated, success from quality.suite_validations order by suite"
        ).fetchall()
    assert {f"gx_{suite}" for suite, _, _ in validations} == SUITES
    assert all(success and rows > 0 for _, rows, success in validations)
    assert summary.rejects == []


def test_bad_data_fails_the_suites_is_rejected_and_holds_finance_back(
    built: tuple[Company, RunSummary], tmp_path: Path
) -> None:
    company = built[0].copy_to(tmp_path)
    before = finance_fingerprints(company.warehouse)
    before_through_december = finance_fingerprints(company.warehouse, through="2025-12")
    files_before = finance_files(company.warehouse)
    serving = company.warehouse.with_name("serving.duckdb")  # what the clean run published
    published_before = finance_files(serving)
    crm = company.landing / "crm"
    stamp = "2026-01-02T00:00:00.000Z"

    text_amount = dict(first_line(crm / "deals"), updatedAt=stamp)
    text_amount["properties"] = dict(text_amount["properties"], amount="12x")
    negative = dict(nth_line(crm / "deals", 1), updatedAt=stamp)
    negative["properties"] = dict(negative["properties"], amount="-500.00")
    stranger = dict(nth_line(crm / "deals", 2), updatedAt=stamp)
    stranger["properties"] = dict(stranger["properties"], hubspot_owner_id="999999")
    deals = [text_amount, negative, stranger]
    (crm / "deals" / "2026-01-02_delta-0000.jsonl").write_text("".join(json.dumps(d) + "\n" for d in deals))

    call = dict(first_line(crm / "calls"), updatedAt=stamp)
    call["properties"] = dict(call["properties"], hs_call_direction="SIDEWAYS")
    (crm / "calls" / "2026-01-02_delta-0000.jsonl").write_text(json.dumps(call) + "\n")

    answers = company.landing / "surveys" / "answers"
    answer = dict(first_line(answers), score=11, updated_at="2026-01-02T00:00:00Z")
    (answers / "2026-01-02_delta-0000.jsonl").write_text(json.dumps(answer) + "\n")

    quotas = company.landing / "plans" / "quotas"
    lines = sorted(quotas.glob("*.csv"))[0].read_text().splitlines()
    header = lines[0].split(",")
    row = lines[1].split(",")
    row[header.index("quota_amount")] = "-100.00"
    (quotas / "2026-01-02_delta.csv").write_text("\n".join([lines[0], ",".join(row), *lines[2:]]) + "\n")

    status = main(["run", "--landing", str(company.landing), "--warehouse", str(company.warehouse), "--quiet"])
    summary = run_job_summary_from_last_run(company)

    assert status == 1  # `spm run` exits 1 when a check failed
    assert summary.success  # the run itself completed: everything but finance was built
    failed = {name.split(":")[1] for name in summary.checks_failed}
    assert {"gx_crm_deals", "gx_crm_calls", "gx_surveys_answers", "gx_plans_quotas"} <= failed
    assert "gx_hris_employees" not in failed and "gx_plans_assignments" not in failed
    deals_detail = summary.check_details["quality/suite_validations:gx_crm_deals"]
    for expectation in ("amount is a number", "amount is not negative", "owner is a CRM owner"):
        assert expectation in deals_detail
    # blocking suites (deals, quotas) failed the finance gate, so dbt built no commission model:
    # the finance marts are byte for byte as they were. The negative quota also breaks a plan
    # rule and the proration test, both upstream of finance; the non-blocking suites (calls,
    # answers) hold nothing back.
    assert set(summary.finance_held_back) == {
        "quality/suite_validations:gx_crm_deals",
        "quality/suite_validations:gx_plans_quotas",
        "intermediate/int_finance_suites_checked:blocking_suites_passed",
        "intermediate/int_plan_rule_violations:plan_inputs_follow_the_rules",
        "marts/fct_quotas:quotas_prorated_within_full_quota",
    }
    assert "marts/fct_payouts" in summary.models_not_built
    assert finance_fingerprints(company.warehouse) == before
    assert finance_files(company.warehouse) == files_before
    # the run published what it validated: BI tools see the finance marts as they were
    assert finance_files(serving) == published_before
    with duckdb.connect(str(serving), read_only=True) as connection:
        assert connection.execute("select run_id from serving_info.publication").fetchone()[0] == summary.run_id
    # ... while the sales marts were rebuilt from the clean, staged rows
    assert "marts/fct_deals" in summary.models_built and "marts/fct_payouts" not in summary.models_built

    with duckdb.connect(str(company.warehouse), read_only=True) as connection:
        rejects = connection.execute(
            "select record_id, reason, field, rejected_value, source_file, source_line "
            "from rejects.rejects_crm__deals order by source_line"
        ).fetchall()
        answer_rejects = connection.execute(
            "select reason, rejected_value from rejects.rejects_surveys__answers"
        ).fetchall()
        deals_validation = connection.execute(
            "select scope, rows_evaluated, success from quality.suite_validations "
            "where suite = 'crm_deals' order by validated_at desc limit 1"
        ).fetchone()
        examples = connection.execute(
            "select examples from quality.expectation_results e join quality.suite_validations v using (validation_id) "
            "where v.suite = 'crm_deals' and e.summary = 'amount is a number' order by v.validated_at desc limit 1"
        ).fetchone()[0]
    delta_file = "crm/deals/2026-01-02_delta-0000.jsonl"
    assert rejects == [
        (text_amount["id"], "amount is not a number", "amount", "12x", delta_file, 1),
        (stranger["id"], "unknown owner (not a CRM owner)", "hubspot_owner_id", "999999", delta_file, 3),
    ]
    assert answer_rejects == [("score outside 0-10", "11")]
    assert json.loads(examples) == [{"amount_text": "12x", "_source_file": delta_file, "_source_line": 1}]
    # the deals suite validated only this load's three rows, not the whole table
    assert deals_validation == ("load", 3, False)
    assert count(company.warehouse, f"staging.stg_crm__deals where deal_id = '{negative['id']}'") == 1
    assert "staging/stg_crm__deals:every_raw_row_is_staged_or_rejected" not in summary.checks_failed

    # A corrected delivery (newer versions, a fixed quota file) passes and releases finance.
    stamp = "2026-01-03T00:00:00.000Z"
    fixed = []
    for deal, original in zip(
        deals, (first_line(crm / "deals"), nth_line(crm / "deals", 1), nth_line(crm / "deals", 2)), strict=True
    ):
        fixed.append(dict(deal, updatedAt=stamp, properties=original["properties"]))
    (crm / "deals" / "2026-01-03_delta-0000.jsonl").write_text("".join(json.dumps(d) + "\n" for d in fixed))
    shutil.copyfile(sorted(quotas.glob("*.csv"))[0], quotas / "2026-01-03_delta.csv")

    summary = run_job(company)

    failed = {name.split(":")[1] for name in summary.checks_failed}
    assert "gx_crm_deals" not in failed and "gx_plans_quotas" not in failed, summary.render()
    assert summary.finance_held_back == [] and "marts/fct_payouts" in summary.models_built
    assert count(company.warehouse, "rejects.rejects_crm__deals") == 0
    # the delivery dated 2026-01-03 moves the horizon to 2026-01; the months before are as they were
    assert finance_fingerprints(company.warehouse, through="2025-12") == before_through_december


def test_check_command_runs_every_check_without_rebuilding(
    built: tuple[Company, RunSummary], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    company = built[0].copy_to(tmp_path)
    marts = table_fingerprints(company.warehouse, ("marts",))
    project_copies = set(Path(tempfile.gettempdir()).glob("*/dbt_project.yml"))

    status = main(["check", "--warehouse", str(company.warehouse), "--full", "--all"])

    out = capsys.readouterr().out
    assert status == 0, out
    # dagster-dbt ran the ~300 selected tests in a temporary copy of the project: removed after
    assert set(Path(tempfile.gettempdir()).glob("*/dbt_project.yml")) <= project_copies
    assert table_fingerprints(company.warehouse, ("marts",)) == marts
    kinds = {
        line.split()[0]: line.split()[1:]
        for line in out.splitlines()
        if line.split()[:1] in (["suite"], ["freshness"], ["dbt"])
    }
    assert kinds["suite"] == ["8", "8", "0", "0"]
    assert int(kinds["freshness"][0]) > 10 and kinds["freshness"][3] == "0"
    with duckdb.connect(str(company.warehouse), read_only=True) as connection:
        full = connection.execute(
            "select rows_evaluated from quality.suite_validations where suite = 'crm_calls' and scope = 'full'"
        ).fetchall()
        calls = connection.execute("select count(*) from raw_crm.calls").fetchone()[0]
    assert full == [(calls,)]
