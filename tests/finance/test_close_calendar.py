"""The close calendar on the `small` company: go-live, closing through a month, the close's as-of
date and a forced close, and the run's horizon (docs/commission_plans.md, "The close calendar").

Every test works on its own copy of the session's built company; the dbt builds and close jobs are
the fewest that show each rule.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from finance.ledger import close_period, close_through
from finance.payroll import export_payouts
from finance.periods import FinanceError, period_states
from orchestration.defs.dbt import BUILD_ARGS
from spm.cli import main
from tests.dbt_cli import run_dbt
from tests.job_runs import run_close_job
from tests.small_company import Company, built_small_company

GO_LIVE = "2025-04"
#: The as-of date of the horizon build: two months after the company's data ends (2025-12-31).
AS_OF = "2026-02-15"


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory, dbt_manifest: Path) -> Company:
    return built_small_company(tmp_path_factory)


def rows(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def ledger_versions(warehouse: Path) -> list[tuple]:
    return rows(
        warehouse,
        "select period_month, ledger_version, action from ledger.period_events order by acted_at, period_month",
    )


@pytest.fixture(scope="module")
def calendar_build(company: Company, tmp_path_factory: pytest.TempPathFactory) -> Company:
    """A copy rebuilt from the plan segments on with go-live April 2025 and as of 2026-02-15."""
    root = tmp_path_factory.mktemp("calendar")
    copy = company.copy_to(root)
    done = run_dbt(
        [
            *BUILD_ARGS,
            "--select",
            "int_plan_segments_dated+",
            "--vars",
            f"{{commission_go_live_month: '{GO_LIVE}', as_of_date: '{AS_OF}'}}",
        ],
        copy.warehouse,
        root / "target",
    )
    assert done.returncode == 0, done.stdout[-3000:]
    return copy


def test_periods_before_go_live_are_history_shown_never_closed_or_paid(calendar_build: Company, tmp_path: Path) -> None:
    warehouse = calendar_build.warehouse
    periods = rows(
        warehouse,
        "select period_month, period_status, go_live_month, first_open_period_month "
        "from intermediate.int_payout_periods_classified where period_month <= '2025-05' order by 1",
    )
    assert [(p, s) for p, s, _, _ in periods] == [
        ("2025-01", "history"),
        ("2025-02", "history"),
        ("2025-03", "history"),
        ("2025-04", "open"),
        ("2025-05", "open"),
    ]
    assert {(g, f) for _, _, g, f in periods} == {(GO_LIVE, GO_LIVE)}
    # computed and visible, with their status, in the payout lines and the monthly mart
    history = rows(
        warehouse,
        "select period_status, count(*), sum(net_payout_amount) from marts.mart_commissions_monthly "
        "where period_month < ? group by 1",
        [GO_LIVE],
    )
    assert len(history) == 1 and history[0][0] == "history" and history[0][2] > 0, history
    assert rows(
        warehouse, "select distinct period_status from marts.fct_payouts where period_month < ?", [GO_LIVE]
    ) == [("history",)]

    # never closable: a clear refusal naming the go-live month, alone or through it
    with pytest.raises(FinanceError, match=f"before the go-live period {GO_LIVE}"):
        close_period(warehouse, "2025-02")
    with pytest.raises(FinanceError, match=f"closing starts at {GO_LIVE}"):
        close_through(warehouse, "2025-03")
    # not payable: the payroll file refuses it
    with pytest.raises(FinanceError, match=f"2025-02 is before the go-live period {GO_LIVE}"):
        export_payouts(warehouse, "2025-02", tmp_path / "payroll.csv")
    assert ledger_versions(warehouse) == []

    # closing starts at the go-live period: no month before it needs closing
    closed = close_period(warehouse, GO_LIVE, acted_by="test")
    assert closed.changed and closed.version == 1 and closed.line_count > 0
    assert ledger_versions(warehouse) == [(GO_LIVE, 1, "close")]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        states = period_states(con)
    assert states["2025-01"].status == "history" and states[GO_LIVE].status == "closed"


def test_the_horizon_is_the_as_of_month_with_a_row_for_every_rep_on_a_plan(calendar_build: Company) -> None:
    warehouse = calendar_build.warehouse
    assert rows(warehouse, "select max(period_month) from intermediate.int_plan_segments_dated") == [("2026-02",)]
    assert rows(warehouse, "select max(period_month) from marts.mart_commissions_monthly") == [("2026-02",)]
    # every rep on a plan in a month has the month's row, whatever happened (deals, a clawback, nothing)
    missing = rows(
        warehouse,
        """
        select segments.period_month, segments.employee_id
        from intermediate.int_plan_segments_dated as segments
        left join marts.mart_commissions_monthly as monthly
            on segments.employee_id = monthly.employee_id and segments.period_month = monthly.period_month
        where monthly.employee_id is null
        """,
    )
    assert missing == []
    # and no month has a row that is not a month of the horizon (a clawback's month included)
    assert rows(
        warehouse,
        "select count(*) from marts.mart_commissions_monthly where period_month not in "
        "(select period_month from intermediate.int_plan_segments_dated)",
    ) == [(0,)]
    # the months after the data: one row per rep on a plan, nothing credited or earned (a draw
    # still pays what the plan guarantees)
    quiet = rows(
        warehouse,
        "select period_month, count(*), sum(credited_bookings_amount), "
        "sum(commission_amount + spif_amount + clawback_amount + adjustment_amount), "
        "sum(net_payout_amount - draw_paid_amount + draw_recovered_amount) "
        "from marts.mart_commissions_monthly where period_month > '2025-12' group by 1 order by 1",
    )
    reps = rows(
        warehouse,
        "select period_month, count(distinct employee_id) from intermediate.int_plan_segments_dated "
        "where period_month > '2025-12' group by 1 order by 1",
    )
    assert [(p, n) for p, n, *_ in quiet] == reps and reps and all(n > 0 for _, n in reps)
    assert all(booked == earned == rest == 0 for _, _, booked, earned, rest in quiet), quiet


def test_a_period_not_ended_is_refused_unless_forced_with_a_reason(company: Company, tmp_path: Path) -> None:
    warehouse = company.copy_to(tmp_path).warehouse
    with pytest.raises(FinanceError, match=r"ends on 2025-01-31, not before the as-of date 2025-01-31.*--force"):
        close_period(warehouse, "2025-01", as_of=dt.date(2025, 1, 31))
    assert ledger_versions(warehouse) == []

    reason = "payroll cut-off on the 28th, approved by the controller"
    closed = close_period(warehouse, "2025-01", acted_by="controller", as_of=dt.date(2025, 1, 28), force=reason)
    assert closed.changed and reason in closed.message
    (event,) = rows(warehouse, "select action, acted_by, acted_at, reason from ledger.period_events")
    assert event[:2] == ("close", "controller") and event[2] is not None
    assert event[3] == f"forced before the period ended (closed as of 2025-01-28): {reason}"


def test_close_through_closes_in_order_once_rebuilt_and_stops_at_the_first_failure(
    company: Company, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    warehouse = company.copy_to(tmp_path).warehouse
    shown = dict(
        rows(
            warehouse,
            "select period_month, sum(amount) from marts.fct_payouts where period_month <= '2025-03' group by 1",
        )
    )

    # through March: one close per period, in order, then one rebuild of what the ledger feeds
    result = run_close_job(warehouse, "", acted_by="test", through="2025-03")
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    assert ledger_versions(warehouse) == [("2025-01", 1, "close"), ("2025-02", 1, "close"), ("2025-03", 1, "close")]
    frozen = dict(rows(warehouse, "select period_month, sum(amount) from ledger.payout_lines group by 1"))
    assert frozen == shown  # each period frozen as fct_payouts showed it
    rebuilt = {m.asset_key.to_user_string() for m in result.get_asset_materialization_events()}
    assert {"marts/fct_payouts", "marts/mart_commissions_monthly", "intermediate/int_payout_adjustments_posted"} <= (
        rebuilt
    )
    # the commission lines do not read the ledger: a close leaves them (and the payout scope) alone
    assert not rebuilt & {
        "marts/fct_credits",
        "intermediate/int_payout_lines_computed",
        "intermediate/int_payout_scope_detected",
    }
    # what the rebuild computes for the closed periods is what was frozen: no adjustment to post
    assert rows(warehouse, "select count(*) from intermediate.int_payout_adjustments_posted") == [(0,)]
    assert rows(
        warehouse,
        "select period_month, period_status, min(ledger_version), max(ledger_version) from marts.fct_payouts "
        "where period_month <= '2025-04' group by 1, 2 order by 1",
    ) == [
        ("2025-01", "closed", 1, 1),
        ("2025-02", "closed", 1, 1),
        ("2025-03", "closed", 1, 1),
        ("2025-04", "open", None, None),
    ]

    # through December as of 15 June: April and May close, June has not ended: stop there
    capsys.readouterr()
    code = main(
        ["close-period", "--through", "2025-12", "--as-of", "2025-06-15", "--warehouse", str(warehouse), "--quiet"]
    )
    out = capsys.readouterr().out
    assert code == 1, out
    assert "closed 2025-04 as version 1" in out and "closed 2025-05 as version 1" in out
    assert "stopped at 2025-06, not closed: cannot close 2025-06: it ends on 2025-06-30" in out
    assert ledger_versions(warehouse)[3:] == [("2025-04", 1, "close"), ("2025-05", 1, "close")]
    assert (
        rows(
            warehouse,
            "select period_month, count(distinct ledger_version) from ledger.payout_lines group by 1 "
            "having count(distinct ledger_version) <> 1",
        )
        == []
    )
    assert rows(
        warehouse, "select count(*) from marts.fct_payouts where period_month = '2025-05' and period_status <> 'closed'"
    ) == [(0,)]

    # when the first period fails, nothing is written and the refusal is one line
    assert main(["close-period", "--through", "2025-07", "--as-of", "2025-06-20", "--warehouse", str(warehouse)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "cannot close 2025-06: it ends on 2025-06-30" in err, err
    assert len(ledger_versions(warehouse)) == 5


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["close-period"], "give the period to close (YYYY-MM) or --through YYYY-MM"),
        (["close-period", "2025-01", "--through", "2025-02"], "not both"),
        (["close-period", "--through", "2025-1"], "is not a month written as YYYY-MM"),
        (["close-period", "2025-01", "--as-of", "2025-02-30"], "is not a date written as YYYY-MM-DD"),
        (["close-period", "2025-01", "--force", " "], "--force needs a reason"),
    ],
)
def test_close_options_are_checked_before_anything_runs(
    arguments: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*arguments, "--warehouse", str(tmp_path / "none.duckdb")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err, err


def test_ended_months_need_no_force(company: Company, tmp_path: Path) -> None:
    warehouse = company.copy_to(tmp_path).warehouse
    closed = close_period(warehouse, "2025-01", acted_by="test", as_of=dt.date(2025, 2, 1))
    assert closed.changed and closed.net_amount != Decimal("0.00")
    assert rows(warehouse, "select reason from ledger.period_events") == [(None,)]
