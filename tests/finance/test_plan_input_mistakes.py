"""Plan-input mistakes that used to change payroll silently (issue 37), on the `small` company.

One warehouse goes through the deliveries in order, one run each (module-scoped stages, so the
suite pays for four builds): the clean company; a plan with a tier rate of 150 and a header-only
quota snapshot (rule violations with file:line, finance held back); the same plans written in
percent (`rate_unit: percent`, payouts unchanged); a real rate change (a warning naming rep,
period, before, after and share, and a close refused until accepted with a reason). The misnamed
plan file is refused at load: tests/ingestion/test_robustness.py.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from finance.periods import plan_rule_violations
from spm.cli import main
from spm.run_summary import RunSummary
from synthetic import generate
from tests.job_runs import run_warehouse_job, summarise_run
from tests.warehouse_checks import table_fingerprints

T0 = dt.date(2025, 12, 31)
PLANS = Path("plans/commission_plans")
PAYOUTS_SQL = (
    "select period_month, employee_id, currency_code, net_payout_amount "
    "from marts.mart_commissions_monthly order by all"
)


@dataclass(frozen=True)
class Stage:
    """What a run left: its summary, the plan rule messages, the finance marts and the payouts."""

    summary: RunSummary
    violations: list[str]
    finance: dict[str, tuple[int, int]]
    payouts: list[tuple]


def rows(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def finance_fingerprint(warehouse: Path) -> dict[str, tuple[int, int]]:
    """Row count and content checksum of every finance mart."""
    return {
        name: value
        for name, value in table_fingerprints(warehouse, ("marts",)).items()
        if name.split(".")[1].startswith(("fct_payouts", "fct_credits", "mart_commission"))
    }


def run(landing: Path, warehouse: Path) -> Stage:
    """warehouse_job on the landing folder, and the summary `spm run` would print."""
    result = run_warehouse_job(landing, warehouse)
    summary = summarise_run(result, warehouse, landing)
    from finance.payout_changes import recorded_changes

    summary.payout_changes = [change.describe() for change in recorded_changes(warehouse, result.run_id)]
    return Stage(summary, plan_rule_violations(warehouse), finance_fingerprint(warehouse), rows(warehouse, PAYOUTS_SQL))


def plans_text(landing: Path) -> str:
    return sorted((landing / PLANS).glob("*.yaml"))[-1].read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory, dbt_manifest: Path) -> tuple[Path, Path, Stage]:
    """The company, built once; every later stage changes this landing folder and warehouse."""
    root = tmp_path_factory.mktemp("plan_mistakes")
    landing, warehouse = root / "landing", root / "w.duckdb"
    generate(landing, "small", 42, T0)
    stage = run(landing, warehouse)
    assert stage.summary.success and not stage.summary.checks_failed, stage.summary.render()
    assert not stage.summary.payout_changes  # the first run has nothing to compare with
    return landing, warehouse, stage


@pytest.fixture(scope="module")
def bad_delivery(clean: tuple[Path, Path, Stage]) -> tuple[Stage, int]:
    """A plan file with a tier rate of 150 (meant: 0.08) and a header-only quota snapshot."""
    landing, warehouse, _ = clean
    text = plans_text(landing)
    lines = text.splitlines()
    rate_line = lines.index("      rate: 0.08")  # AE's first band, 0-based
    assert lines[rate_line - 2].lstrip().startswith("- from_attainment")
    lines[rate_line] = "      rate: 150"
    (landing / PLANS / "2026-01-01_full.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    header = (landing / "plans/quotas/2025-12-31_full.csv").read_text(encoding="utf-8").splitlines()[0]
    (landing / "plans/quotas/2026-01-01_full.csv").write_text(header + "\n", encoding="utf-8")
    stage = run(landing, warehouse)
    # the delivery is withdrawn: the previous snapshots are the newest again
    (landing / PLANS / "2026-01-01_full.yaml").unlink()
    (landing / "plans/quotas/2026-01-01_full.csv").unlink()
    return stage, rate_line - 1  # the tier's mapping starts two lines above its rate (1-based)


def test_rate_above_bound_and_empty_quotas_hold_finance_back(
    clean: tuple[Path, Path, Stage], bad_delivery: tuple[Stage, int]
) -> None:
    _, _, before = clean
    stage, tier_line = bad_delivery
    gate = "intermediate/int_plan_rule_violations:plan_inputs_follow_the_rules"
    # (the empty quota table also fails its source freshness check, which never holds finance back)
    assert gate in stage.summary.checks_failed, stage.summary.render()
    assert stage.summary.finance_held_back == [gate]
    assert "marts/fct_payouts" in stage.summary.models_not_built
    assert stage.violations == [
        f"plans/commission_plans/2026-01-01_full.yaml:{tier_line} plans[0].components[0].tiers[0]: "
        "tier_rate_above_bound - rate 150.000000 is above 1.0 (rates are fractions: 0.08 = 8 %; a plan that "
        "writes percentages declares rate_unit: percent)",
        "plans/quotas/2026-01-01_full.csv:1: plan_input_empty - the quotas snapshot has no rows, and quotas is a "
        "required plan input; deliver the complete snapshot",
    ]
    # the finance marts are exactly as before the delivery
    assert stage.finance == before.finance and stage.payouts == before.payouts


@pytest.fixture(scope="module")
def percent_plans(clean: tuple[Path, Path, Stage], bad_delivery: tuple[Stage, int]) -> Stage:
    """The same plans with their rates written in percent and `rate_unit: percent`."""
    landing, warehouse, _ = clean
    text = plans_text(landing)
    percent = re.sub(
        r"^(\s+)rate: ([0-9.]+)$",
        lambda m: f"{m.group(1)}rate: {Decimal(m.group(2)) * 100:f}",
        text,
        flags=re.MULTILINE,
    )
    percent = percent.replace("\n  period: month\n", "\n  period: month\n  rate_unit: percent\n")
    assert percent.count("rate_unit: percent") == text.count("\n- plan_id:") > 0 and "rate: 8.00" in percent
    (landing / PLANS / "2026-01-02_full.yaml").write_text(percent, encoding="utf-8")
    return run(landing, warehouse)


def test_rates_in_percent_pay_the_same(clean: tuple[Path, Path, Stage], percent_plans: Stage) -> None:
    _, _, before = clean
    assert percent_plans.summary.checks_failed == [] and percent_plans.violations == [], percent_plans.summary.render()
    assert percent_plans.payouts == before.payouts
    assert percent_plans.summary.payout_changes == []


@pytest.fixture(scope="module")
def raised_rate(clean: tuple[Path, Path, Stage], percent_plans: Stage) -> Stage:
    """A valid plan change finance may or may not have meant: AE's first band pays 20 % instead of 8 %."""
    landing, warehouse, _ = clean
    text = plans_text(landing)
    raised = text.replace("rate: 8.00\n", "rate: 20\n", 1)
    assert raised != text
    (landing / PLANS / "2026-01-03_full.yaml").write_text(raised, encoding="utf-8")
    return run(landing, warehouse)


def test_large_payout_change_warns_and_blocks_the_close_until_accepted(
    clean: tuple[Path, Path, Stage], percent_plans: Stage, raised_rate: Stage, capsys: pytest.CaptureFixture[str]
) -> None:
    _, warehouse, _ = clean
    summary = raised_rate.summary
    assert summary.success and summary.checks_failed == [], summary.render()
    assert summary.checks_warned == ["audit/payout_changes:net_payouts_within_change_threshold"]
    assert raised_rate.payouts != percent_plans.payouts
    # each change names the period, the rep (or the company), before, after and the share
    changes = summary.payout_changes
    # "new" where the month paid 0 before (a negative month pays 0: its balance is carried forward)
    line = re.compile(r"^(2025-\d\d) (rep \d+|company): ([\d,.-]+) -> ([\d,.-]+) USD \((?:([+-]\d+\.\d) %|new)\)$")
    parsed = [line.match(change) for change in changes]
    assert changes and all(parsed), changes
    january = [m for m in parsed if m.group(1) == "2025-01" and m.group(2).startswith("rep ")]
    assert january, changes
    for match in parsed:
        before, after = (Decimal(match.group(i).replace(",", "")) for i in (3, 4))
        assert after > before and abs(after - before) > Decimal("0.25") * abs(before)
        if match.group(5) is None:
            assert before == 0, match.group(0)
            continue
        assert abs(Decimal(match.group(5)) - (after - before) / abs(before) * 100) <= Decimal("0.1")
    rep = january[0].group(2).removeprefix("rep ")
    assert rows(
        warehouse,
        "select m.net_payout_amount from marts.mart_commissions_monthly as m "
        "where m.period_month = '2025-01' and m.employee_id = ?",
        [rep],
    ) == [(Decimal(january[0].group(4).replace(",", "")),)]
    assert "Warning: " in summary.render() and changes[0] in summary.render()

    # the close of January is refused, in one line naming the way out, and writes nothing
    capsys.readouterr()
    assert main(["close-period", "2025-01", "--warehouse", str(warehouse), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "cannot close 2025-01" in err and "--accept-change REASON" in err, err
    assert rows(warehouse, "select count(*) from ledger.period_events")[0][0] == 0

    reason = "AE first band raised to 20 % from January, approved by the CFO"
    assert (
        main(["close-period", "2025-01", "--warehouse", str(warehouse), "--quiet", "--accept-change", reason]) == 0
    ), capsys.readouterr()
    assert rows(warehouse, "select period_month, action, reason from ledger.period_events") == [
        ("2025-01", "close", reason)
    ]
    # February's changes are still waiting for their own acceptance
    assert main(["close-period", "2025-02", "--warehouse", str(warehouse), "--quiet"]) == 2
    assert "cannot close 2025-02" in capsys.readouterr().err
