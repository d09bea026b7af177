"""Closing and reopening commission periods: the only code that writes the ledger.

A close freezes the period's payout lines, exactly as ``marts.fct_payouts`` shows them (what
finance reviewed), into ``ledger.payout_lines`` with a new version number and the close time,
and logs the action in ``ledger.period_events``; both inserts happen in one transaction. Nothing
here updates or deletes a ledger row: a reopen is a logged event, and the next close of that
period adds a new version beside the old one.

These functions write the ledger only. The models that read it are rebuilt by the Dagster job
``close_period_job`` (``orchestration/defs/finance.py``), which runs them after the ledger step
through the dbt assets, as `spm close-period` and `spm reopen-period` do.
"""

from __future__ import annotations

import datetime as dt
import getpass
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb

from core.warehouse_lock import warehouse_write_lock
from finance.payout_changes import unaccepted_changes
from finance.periods import FinanceError, ledger_ready, parse_period, period_states

LINE_COLUMNS = (
    "payout_line_key, period_month, period_start_date, employee_id, deal_id, plan_version_key, component_id, "
    "line_type, credit_type, credit_pct, credited_amount, tier_number, rate, rule_applied, amount, currency_code, "
    "corrects_period_month, corrects_deal_id"
)


@dataclass(frozen=True)
class LedgerAction:
    """What a close or reopen did (or why it did nothing)."""

    period: str
    action: str
    version: int
    changed: bool
    message: str
    line_count: int = 0
    net_amount: Decimal = Decimal("0.00")


def _require_warehouse(warehouse: Path) -> None:
    """Refuse a warehouse file that does not exist (connecting would create an empty one)."""
    if not Path(warehouse).is_file():
        raise FinanceError(f"no warehouse at {warehouse}: run `spm run` first, or pass --warehouse")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _check_marts_current(con: duckdb.DuckDBPyConnection, period: str) -> None:
    """Refuse to freeze lines from a stale mart (built before the last ledger change)."""
    stale = con.execute(
        """
        select payouts.period_month
        from (select distinct period_month, period_status, ledger_version from marts.fct_payouts) as payouts
        inner join intermediate.int_payout_periods_classified as live on payouts.period_month = live.period_month
        where payouts.period_month <= ?
            and (payouts.period_status <> live.period_status
                 or coalesce(payouts.ledger_version, -1) <> coalesce(live.closed_version, -1))
        limit 1
        """,
        [period],
    ).fetchone()
    if stale:
        raise FinanceError(
            f"marts.fct_payouts is older than the ledger (period {stale[0]}); rebuild the finance models "
            "(`spm run`) before closing"
        )


def close_period(
    warehouse: Path, period: str, acted_by: str | None = None, accept_change: str | None = None
) -> LedgerAction:
    """Freeze ``period``'s payout lines into the ledger as a new version.

    Closing a closed period is a no-op; closing a period while an earlier one is open, or a
    period with no commission data, is refused with a :class:`FinanceError`. So is closing a
    period whose net payouts moved by more than the threshold since a previous run
    (:mod:`finance.payout_changes`), unless ``accept_change`` gives the reason they are right;
    the reason is kept on the close's ledger event.
    """
    period = parse_period(period)
    _require_warehouse(warehouse)
    with warehouse_write_lock(warehouse), duckdb.connect(str(warehouse)) as con:
        ledger_ready(con)
        states = period_states(con)
        state = states.get(period)
        if state is None:
            raise FinanceError(f"there is no commission period {period} in the warehouse")
        if state.status == "closed":
            return LedgerAction(
                period,
                "close",
                state.closed_version or 0,
                False,
                f"{period} is already closed (version {state.closed_version}); nothing to do",
            )
        earlier_open = [p for p, s in states.items() if p < period and s.status == "open"]
        if earlier_open:
            raise FinanceError(
                f"cannot close {period}: earlier period(s) still open: {', '.join(earlier_open[:6])}"
                f"{' ...' if len(earlier_open) > 6 else ''}; close them first, in order"
            )
        _check_marts_current(con, period)
        reason = (accept_change or "").strip() or None
        changes = unaccepted_changes(con, period)
        if changes and reason is None:
            more = f" and {len(changes) - 1} more" if len(changes) > 1 else ""
            raise FinanceError(
                f"cannot close {period}: net payouts changed by more than the threshold since the previous run "
                f"({changes[0].describe()}{more}; audit.payout_changes lists them); check them, then close with "
                "--accept-change REASON"
            )
        version = state.latest_version + 1
        closed_at = _now()
        con.execute("begin transaction")
        try:
            con.execute(
                f"insert into ledger.payout_lines ({LINE_COLUMNS}, ledger_version, closed_at) "
                f"select {LINE_COLUMNS}, ?, ? from marts.fct_payouts "
                "where period_month = ? and period_status = 'open'",
                [version, closed_at, period],
            )
            count, net = con.execute(
                "select count(*), coalesce(sum(amount), 0) from ledger.payout_lines "
                "where period_month = ? and ledger_version = ?",
                [period, version],
            ).fetchone()
            con.execute(
                "insert into ledger.period_events values (?, ?, 'close', ?, ?, ?, ?, ?)",
                [period, version, closed_at, acted_by or _who(), reason, count, net],
            )
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise
    return LedgerAction(
        period,
        "close",
        version,
        True,
        f"closed {period} as version {version}: {count} lines, net {net}"
        + (f"; accepted {len(changes)} payout change(s): {reason}" if changes else ""),
        int(count),
        Decimal(net),
    )


def reopen_period(warehouse: Path, period: str, reason: str, acted_by: str | None = None) -> LedgerAction:
    """Reopen the latest closed period (a mistake found before payroll), with a logged reason.

    The closed version stays in the ledger; the period follows the data again until it is
    closed anew as the next version. Only the latest closed period can be reopened.
    """
    period = parse_period(period)
    if not (reason or "").strip():
        raise FinanceError("reopening a period needs a reason (it is kept in the ledger)")
    _require_warehouse(warehouse)
    with warehouse_write_lock(warehouse), duckdb.connect(str(warehouse)) as con:
        ledger_ready(con)
        states = period_states(con)
        state = states.get(period)
        if state is None or state.status != "closed":
            raise FinanceError(f"{period} is not closed; only a closed period can be reopened")
        later_closed = [p for p, s in states.items() if p > period and s.status == "closed"]
        if later_closed:
            raise FinanceError(
                f"cannot reopen {period}: later period(s) are closed ({', '.join(later_closed)}); "
                "post a correction instead (it appears as an adjustment in the first open period)"
            )
        con.execute(
            "insert into ledger.period_events values (?, ?, 'reopen', ?, ?, ?, null, null)",
            [period, state.closed_version, _now(), acted_by or _who(), reason.strip()],
        )
    return LedgerAction(
        period,
        "reopen",
        state.closed_version or 0,
        True,
        f"reopened {period} (version {state.closed_version} stays in the ledger; the next close is version "
        f"{state.latest_version + 1})",
    )


def _who() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"
