"""The monthly pack of the session-built small company, as a person sees it: in headless
Chromium (no console error, every chart drawn, the headline numbers those of the marts), as a
PDF, from the command line and as the Dagster asset."""

from __future__ import annotations

import datetime as dt
import re
import struct
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from reporting.pack import Pack, build_pack, latest_month
from spm.cli import main
from tests.reporting.browser import chromium, open_page
from tests.small_company import Company, built_small_company

#: The charts the pack draws (figure[data-chart]), each of which must show marks.
CHARTS = {
    "bookings_vs_quota",
    "attainment",
    "funnel",
    "win_rate_and_cycle",
    "pipeline_coverage",
    "forecast",
    "engagement",
    "commission",
}
SECTIONS = (
    "Bookings vs quota by team",
    "Attainment distribution",
    "Funnel conversion and leakage",
    "Win rate and sales cycle",
    "Pipeline coverage",
    "Forecast vs actual",
    "Leaderboard",
    "Engagement: eNPS and participation by team",
    "Commission expense",
    "Data quality of the run",
)


@pytest.fixture(scope="module")
def company(dbt_manifest: Path, tmp_path_factory: pytest.TempPathFactory) -> Company:
    return built_small_company(tmp_path_factory)


@pytest.fixture(scope="module")
def serving(company: Company) -> Path:
    return company.warehouse.with_name("serving.duckdb")


@pytest.fixture(scope="module")
def pack(serving: Path, tmp_path_factory: pytest.TempPathFactory) -> Pack:
    return build_pack(serving, latest_month(serving), tmp_path_factory.mktemp("pack"))


def mart_value(serving: Path, sql: str, month: dt.date) -> Decimal:
    with duckdb.connect(str(serving), read_only=True) as connection:
        (value,) = connection.execute(sql, [month]).fetchone()
    return Decimal(str(value))


def company_kpi(serving: Path, column: str, month: dt.date) -> Decimal:
    return mart_value(
        serving,
        f"select {column} from marts.mart_sales_kpis where period_grain = 'month' and group_type = 'company' "
        "and period_start_date = ?",
        month,
    )


def shown_amount(text: str, currency: str = "USD") -> Decimal:
    """``USD 1,142,329`` -> 1142329."""
    match = re.fullmatch(rf"{currency} (-?[\d,]+(?:\.\d+)?)", text.strip())
    assert match, f"not an amount in {currency}: {text!r}"
    return Decimal(match.group(1).replace(",", ""))


def shown_share(text: str) -> Decimal:
    """``119.7 %`` -> 1.197."""
    match = re.fullmatch(r"(-?[\d,]+(?:\.\d+)?) %", text.strip())
    assert match, f"not a percentage: {text!r}"
    return Decimal(match.group(1).replace(",", "")) / 100


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


@pytest.mark.skipif(chromium() is None, reason="chromium is not installed (.ci/run installs it)")
def test_the_pack_in_a_browser_shows_the_marts_numbers(pack: Pack, serving: Path, tmp_path: Path) -> None:
    month = pack.data.month
    with open_page(pack.html) as page:
        charts = page.evaluate(
            """Array.from(document.querySelectorAll('figure[data-chart]')).map(figure => ({
                chart: figure.dataset.chart,
                svgs: figure.querySelectorAll('svg').length,
                marks: Array.from(figure.querySelectorAll('svg g.role-mark')).map(g => g.childElementCount),
                legends: figure.querySelectorAll('svg g.role-legend').length,
                axes: figure.querySelectorAll('svg g.role-axis').length}))"""
        )
        metrics = page.evaluate(
            "Object.fromEntries(Array.from(document.querySelectorAll('[data-metric]'))"
            ".map(e => [e.dataset.metric, e.textContent]))"
        )
        header = page.evaluate("document.querySelector('header').innerText")
        suppressed = page.evaluate(
            "Array.from(document.querySelectorAll('#engagement tr[data-suppressed=\"true\"]')).map(r => r.innerText)"
        )
        shot = page.screenshot(tmp_path / "pack.png")
        errors = list(page.errors)
    assert errors == []
    assert {chart["chart"] for chart in charts} == CHARTS
    for chart in charts:
        assert chart["svgs"] == 1 and chart["axes"] > 0, chart
        assert chart["marks"] and sum(chart["marks"]) > 0, f"{chart['chart']} has no marks drawn: {chart}"
    with_legend = {"bookings_vs_quota", "forecast", "commission", "win_rate_and_cycle", "engagement"}
    assert all(chart["legends"] for chart in charts if chart["chart"] in with_legend)
    width, height = png_size(shot)
    assert width == 1000 and height > 3000

    # the headline numbers are the marts' (rounded for display: to the unit, a tenth of a percent)
    assert abs(shown_amount(metrics["bookings"]) - company_kpi(serving, "bookings_amount", month)) <= Decimal("0.5")
    for metric in ("quota_attainment", "win_rate", "reps_at_quota_share"):
        assert abs(shown_share(metrics[metric]) - company_kpi(serving, metric, month)) <= Decimal("0.0005"), metric
    expense = mart_value(
        serving,
        "select commission_expense_amount from marts.mart_commission_expense_rollforward "
        "where period_start_date = ? and currency_code = 'USD'",
        month,
    )
    assert abs(shown_amount(metrics["commission_expense"]) - expense) <= Decimal("0.5")
    share = mart_value(
        serving,
        "select commission_share_of_bookings from marts.mart_commission_expense_rollforward "
        "where period_start_date = ? and currency_code = 'USD'",
        month,
    )
    assert share is not None and abs(shown_share(metrics["commission_share_of_bookings"]) - share) <= Decimal("0.00005")
    # which run and as-of the pack shows
    with duckdb.connect(str(serving), read_only=True) as connection:
        run_id = connection.execute("select run_id from serving_info.publication").fetchone()[0]
        hidden = connection.execute(
            "select count(*) from marts.mart_engagement where group_type = 'team' and is_suppressed "
            "and survey_id = (select survey_id from marts.mart_engagement where sent_date < ? "
            "order by sent_date desc limit 1)",
            [(month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)],
        ).fetchone()[0]
    assert run_id and run_id in header and f"{pack.data.publication.as_of}" in header
    # suppressed groups are shown as suppressed: not hidden, not zero
    assert hidden > 0 and len(suppressed) == hidden
    assert all("suppressed" in row and not re.search(r"\t0(\t|$)", row) for row in suppressed)


def test_the_pack_is_self_contained(pack: Pack) -> None:
    html = pack.html.read_text(encoding="utf-8")
    assert "<script" not in html.lower()
    assert not re.search(r"""\b(?:src|href)\s*=\s*["'](?!#)""", html), "the page must load nothing"
    assert not re.search(r"url\((?!#)", html), "no external style resource"


def test_the_pdf_has_every_section_and_the_headline(pack: Pack) -> None:
    from pypdf import PdfReader

    assert pack.pdf is not None and not pack.problems
    reader = PdfReader(pack.pdf)
    assert len(reader.pages) >= 3
    text = re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))
    assert f"Sales performance, {pack.data.month:%B %Y}" in text
    for title in SECTIONS:
        assert title in text, title
    bookings = f"USD {pack.data.company['bookings_amount']:,.0f}"
    assert bookings in text


def test_spm_report_writes_the_pack_or_says_what_is_wrong(
    serving: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    for arguments, message in (
        (["2025-13"], "the month must be YYYY-MM"),
        (["Nov-2025"], "the month must be YYYY-MM"),
        (["2031-01"], "no data for 2031-01: the published data is as of"),
        (["1990-01"], "no data for 1990-01"),
    ):
        assert main(["report", *arguments, "--serving", str(serving), "--out", str(out)]) == 2, arguments
        err = capsys.readouterr().err
        assert err.startswith("spm report: ") and message in err and err.count("\n") == 1, err
    assert main(["report", "--warehouse", str(tmp_path / "none" / "w.duckdb"), "--out", str(out)]) == 2
    assert "no serving file at" in capsys.readouterr().err
    assert not out.exists()
    assert main(["report", "--serving", str(serving), "--out", str(out), "--no-pdf"]) == 0
    said = capsys.readouterr().out
    assert "Monthly pack 2025-12 (data as of 2025-12-31" in said
    assert [path.name for path in out.iterdir()] == ["monthly_pack_2025-12.html"]


def test_the_asset_writes_the_pack_and_skips_a_month_without_data(
    company: Company, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orchestration.definitions import build_definitions
    from orchestration.defs.reporting import PACK_KEY, SKIPPED

    definitions = build_definitions(warehouse=company.warehouse)
    job = definitions.resolve_job_def("monthly_pack_job")
    assert {node.name for node in job.nodes} == {"monthly_pack"}
    for other in ("warehouse_job", "close_period_job", "publish_job"):  # a run of its own, after the publish
        assert "monthly_pack" not in {node.name for node in definitions.resolve_job_def(other).nodes}

    def run(**config: object) -> dg.ExecuteInProcessResult:
        run_config = {"ops": {"monthly_pack": {"config": {"out_dir": str(tmp_path), "pdf": False, **config}}}}
        return job.execute_in_process(run_config=run_config, raise_on_error=False)

    result = run()
    assert result.success
    (materialization,) = result.asset_materializations_for_node("monthly_pack")
    metadata = materialization.metadata
    assert Path(metadata["html"].value) == tmp_path / "monthly_pack_2025-12.html"
    assert Path(metadata["html"].value).is_file() and metadata["month"].value == "2025-12"
    assert metadata["data_as_of"].value == "2025-12-31" and metadata["validated_by_run"].value

    skipped = run(month="2031-01")  # no data: a warning and an observation, not a failed run
    assert skipped.success and not skipped.asset_materializations_for_node("monthly_pack")
    observations = [e.asset_observation_data.asset_observation for e in skipped.all_events if e.is_asset_observation]
    assert [o.asset_key for o in observations] == [PACK_KEY]
    assert "no data for 2031-01" in observations[0].metadata[SKIPPED].value

    failed = run(month="2025-13")  # a configuration the user can fix
    assert not failed.success

    # `spm run` and the period commands build it after their publish (SPM_MONTHLY_PACK not off)
    from spm.report_commands import pack_after

    monkeypatch.setenv("SPM_REPORTS_DIR", str(tmp_path / "after"))
    assert pack_after(definitions, "test", quiet=True) == ""  # the tests' default: off
    monkeypatch.setenv("SPM_MONTHLY_PACK", "on")
    line = pack_after(definitions, "test", quiet=True)
    assert line == f"Monthly pack 2025-12: {tmp_path / 'after' / 'monthly_pack_2025-12.html'} (and PDF)"


def test_the_browser_check_catches_a_console_error(tmp_path: Path) -> None:
    if chromium() is None:
        pytest.skip("chromium is not installed")
    page_file = tmp_path / "broken.html"
    page_file.write_text(
        "<!DOCTYPE html><html><body><p>x</p><script>console.error('bad data'); undefinedFunction();</script>"
        "</body></html>"
    )
    with open_page(page_file) as page:
        errors = list(page.errors)
    assert any("bad data" in error for error in errors) and any("undefinedFunction" in error for error in errors)


def test_the_data_quality_section_shows_rejects_warnings_and_tables_kept(serving: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "serving.duckdb"
    shutil.copyfile(serving, copy)
    with duckdb.connect(str(copy)) as connection:
        connection.execute(
            "insert into rejects.rejects_crm__deals (entity, record_id, reason, field, source_file, source_line) "
            "values ('crm.deals', 'D-77', 'amount is not a number', 'amount', 'deals.csv', 7)"
        )
        connection.execute(
            "update serving_info.tables set origin = 'previous publish', reason = 'a dbt test failed' "
            "where table_schema = 'marts' and table_name = 'mart_funnel'"
        )
        (summary,) = connection.execute(
            "update quality.expectation_results set success = false, severity = 'warning', unexpected_count = 3 "
            "where validation_id = (select validation_id from quality.suite_validations where suite = 'crm_deals' "
            "order by validated_at desc limit 1) and expectation_type = 'expect_column_values_to_not_be_null' "
            "returning summary"
        ).fetchall()[0]
    pack = build_pack(copy, latest_month(copy), tmp_path / "out", pdf=False)
    text = re.sub(r"<[^>]+>", " ", pack.html.read_text(encoding="utf-8"))
    text = re.sub(r"\s+", " ", text)
    assert "crm.deals amount is not a number 1 record D-77 at deals.csv:7" in text
    assert "Not validated by this run, previous copy shown: marts.mart_funnel" in text
    assert f"crm_deals warning {summary} 3 of" in text
    assert "Every table was validated by this run" not in text and "No rows were rejected" not in text
