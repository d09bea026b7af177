"""The run-to-run payout comparison on hand-written marts (no build): what counts as a change."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import pytest

from finance.payout_changes import record_payout_run, unaccepted_changes

T1 = dt.datetime(2026, 1, 1, 2, 0)
T2 = dt.datetime(2026, 1, 2, 2, 0)


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    """A warehouse with the mart, the period states and the ledger events the comparison reads."""
    connection = duckdb.connect()
    connection.execute(
        """
        create schema marts; create schema intermediate; create schema ledger;
        create table marts.mart_commissions_monthly (period_month varchar, employee_id varchar,
            currency_code varchar, net_payout_amount decimal(18, 2));
        create table intermediate.int_payout_periods_classified (period_month varchar, period_status varchar);
        create table ledger.period_events (period_month varchar, ledger_version integer, action varchar,
            acted_at timestamp, acted_by varchar, reason varchar, line_count integer, net_amount decimal(18, 2));
        insert into intermediate.int_payout_periods_classified values ('2025-01', 'open'), ('2025-02', 'open');
        insert into marts.mart_commissions_monthly values
            ('2025-01', '1', 'USD', 1000.00), ('2025-01', '2', 'USD', 1000.00), ('2025-01', '3', 'USD', 0.00),
            ('2025-02', '1', 'USD', 500.00);
        """
    )
    return connection


def payouts(con: duckdb.DuckDBPyConnection, period: str, employee: str, amount: str) -> None:
    con.execute(
        "update marts.mart_commissions_monthly set net_payout_amount = ? where period_month = ? and employee_id = ?",
        [Decimal(amount), period, employee],
    )


def test_first_run_and_unchanged_run_record_no_change(con: duckdb.DuckDBPyConnection) -> None:
    assert record_payout_run(con, "run-1", Decimal("0.25"), T1) == []
    assert record_payout_run(con, "run-2", Decimal("0.25"), T2) == []
    assert con.execute("select count(distinct run_id) from audit.payout_snapshots").fetchone() == (2,)


def test_changes_above_the_threshold_per_rep_and_company(con: duckdb.DuckDBPyConnection) -> None:
    record_payout_run(con, "run-1", Decimal("0.25"), T1)
    payouts(con, "2025-01", "1", "1250.00")  # exactly 25 %: not above the threshold
    payouts(con, "2025-01", "2", "100.00")  # -90 %
    payouts(con, "2025-01", "3", "10.00")  # from nothing
    con.execute("insert into marts.mart_commissions_monthly values ('2025-03', '1', 'USD', 9999.00)")  # new month
    con.execute("insert into intermediate.int_payout_periods_classified values ('2025-03', 'open')")

    changes = record_payout_run(con, "run-2", Decimal("0.25"), T2)

    # February did not move; March is new: neither is a change
    assert [c.describe() for c in changes] == [
        "2025-01 company: 2,000.00 -> 1,360.00 USD (-32.0 %)",
        "2025-01 rep 2: 1,000.00 -> 100.00 USD (-90.0 %)",
        "2025-01 rep 3: 0.00 -> 10.00 USD (new)",
    ]
    assert unaccepted_changes(con, "2025-01") == changes
    assert unaccepted_changes(con, "2025-02") == []


def test_a_close_covers_the_changes_before_it_and_closed_periods_are_not_compared(
    con: duckdb.DuckDBPyConnection,
) -> None:
    record_payout_run(con, "run-1", Decimal("0.25"), T1)
    payouts(con, "2025-01", "2", "3000.00")
    assert record_payout_run(con, "run-2", Decimal("0.25"), T2)
    con.execute("insert into ledger.period_events values ('2025-01', 1, 'close', ?, 'x', 'ok', 1, 1)", [T2])
    assert unaccepted_changes(con, "2025-01") == []
    con.execute(
        "update intermediate.int_payout_periods_classified set period_status = 'closed' where period_month = '2025-01'"
    )
    payouts(con, "2025-01", "2", "9000.00")
    assert record_payout_run(con, "run-3", Decimal("0.25"), T2 + dt.timedelta(hours=1)) == []


def test_the_month_under_way_is_not_compared(con: duckdb.DuckDBPyConnection) -> None:
    # on 2025-02-10 February is under way: its payouts grow as deals are won, January has ended
    during_february = dt.datetime(2025, 2, 10, 2, 0)
    record_payout_run(con, "run-1", Decimal("0.25"), during_february)
    payouts(con, "2025-02", "1", "5000.00")
    payouts(con, "2025-01", "1", "2000.00")
    changes = record_payout_run(con, "run-2", Decimal("0.25"), during_february + dt.timedelta(days=1))
    assert {change.period for change in changes} == {"2025-01"}
