"""Closing and reopening commission periods: the only code that writes the ledger.

A close freezes the period's payout lines, exactly as ``marts.fct_payouts`` shows them (what
finance reviewed), into ``ledger.payout_lines`` with a new version number and the close time,
each rep's month head (plan, credited bookings, quota, attainment, as ``marts.mart_commissions_monthly``
shows it) into ``ledger.period_summaries``, and logs the action in ``ledger.period_events``; the
inserts happen in one transaction. Nothing
here updates or deletes a ledger row: a reopen is a logged event, and the next close of that
period adds a new version beside the old one.

A period can be closed once it has ended (by the close's as-of date, default today in UTC) unless
the close is forced with a reason; periods before the go-live month are history and never closed.
``close_through`` closes every open period up to a month in order, one transaction per period.

These functions write the ledger only. The models that read it are rebuilt by the Dagster job
``close_period_job`` (``orchestration/defs/finance.py``), which runs them after the ledger step
through the dbt assets, as `spm close-period` and `spm reopen-period` do.
"""

from __future__ import annotations

import datetime as dt
import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb

from core.warehouse_lock import warehouse_write_lock
from finance.payout_changes import unaccepted_changes
from finance.periods import (
    FinanceError,
    PeriodState,
    history_refusal,
    ledger_ready,
    parse_period,
    period_end,
    period_states,
)

LINE_COLUMNS = (
    "payout_line_key, period_month, period_start_date, employee_id, deal_id, plan_version_key, component_id, "
    "line_type, credit_type, credit_pct, credited_amount, band_amount, tier_number, rate, rule_applied, amount, "
    "currency_code, corrects_period_month, corrects_deal_id, deal_name, deal_close_date, deal_amount, "
    "deal_currency_code, deal_contract_term_months, deal_stage_id, deal_updated_at, deal_source_file, "
    "deal_source_line, deal_load_id, credit_source, split_source_file, split_source_line, quota_source_file, "
    "quota_source_line, rule_source_file, rule_source_line, rule_source_location"
)
#: A rep's month head as closed (ledger.period_summaries), from the monthly and statement marts.
SUMMARY_COLUMNS = (
    "employee_id, currency_code, plan_id, plan_label, credited_bookings_amount, overlay_credit_amount, "
    "quota_amount, attainment, opening_balance_amount, closing_balance_amount, balance_settled_amount, "
    "balance_settlement"
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


@dataclass(frozen=True)
class CloseOutcome:
    """What a close through a period did: the periods closed, in order, and where it stopped."""

    through: str
    actions: tuple[LedgerAction, ...]
    stopped_at: str | None = None
    stop_reason: str | None = None

    @property
    def message(self) -> str:
        done = (
            "\n".join(action.message for action in self.actions)
            if self.actions
            else f"nothing to close: every period through {self.through} is closed"
        )
        if self.stopped_at is None:
            return done
        return f"{done}\nstopped at {self.stopped_at}, not closed: {self.stop_reason}"


def _refuse_history(state: PeriodState) -> None:
    """Refuse a period before the go-live month."""
    if state.status == "history":
        raise FinanceError(f"cannot close {history_refusal(state)}; closing starts at {state.go_live_month}")


def _reason(
    con: duckdb.DuckDBPyConnection,
    state: PeriodState,
    as_of: dt.date,
    force: str | None,
    accept_change: str | None,
) -> tuple[str | None, int]:
    """Check that ``state``'s period may be closed on ``as_of``; return the reason to keep in
    the ledger (accepted changes, a forced early close) and the number of changes accepted."""
    period = state.period
    _refuse_history(state)
    ends = period_end(period)
    forced = (force or "").strip() or None
    if as_of <= ends and forced is None:
        raise FinanceError(
            f"cannot close {period}: it ends on {ends}, not before the as-of date {as_of}; close it from "
            f"{ends + dt.timedelta(days=1)} on (--as-of), or pass --force REASON (kept in the ledger)"
        )
    accepted = (accept_change or "").strip() or None
    changes = unaccepted_changes(con, period)
    if changes and accepted is None:
        more = f" and {len(changes) - 1} more" if len(changes) > 1 else ""
        raise FinanceError(
            f"cannot close {period}: net payouts changed by more than the threshold since the previous run "
            f"({changes[0].describe()}{more}; audit.payout_changes lists them); check them, then close with "
            "--accept-change REASON"
        )
    parts = [accepted] if accepted else []
    if as_of <= ends:
        parts.append(f"forced before the period ended (closed as of {as_of}): {forced}")
    return ("; ".join(parts) or None), len(changes)


def _freeze(
    con: duckdb.DuckDBPyConnection, state: PeriodState, acted_by: str | None, reason: str | None, accepted: int
) -> LedgerAction:
    """Freeze the period's open lines of ``marts.fct_payouts`` as its next version, in one transaction."""
    period, version, closed_at = state.period, state.latest_version + 1, _now()
    con.execute("begin transaction")
    try:
        con.execute(
            f"insert into ledger.payout_lines ({LINE_COLUMNS}, ledger_version, closed_at) "
            f"select {LINE_COLUMNS}, ?, ? from marts.fct_payouts "
            "where period_month = ? and period_status = 'open'",
            [version, closed_at, period],
        )
        con.execute(
            f"insert into ledger.period_summaries (period_month, ledger_version, {SUMMARY_COLUMNS}, closed_at) "
            "select monthly.period_month, ?, monthly.employee_id, monthly.currency_code, monthly.plan_id, "
            "summaries.plan_label, monthly.credited_bookings_amount, monthly.overlay_credit_amount, "
            "monthly.quota_amount, monthly.attainment, summaries.opening_balance_amount, "
            "summaries.closing_balance_amount, summaries.balance_settled_amount, summaries.balance_settlement, ? "
            "from marts.mart_commissions_monthly as monthly "
            "left join marts.mart_commission_statement_summaries as summaries "
            "on monthly.commission_month_key = summaries.statement_key "
            "where monthly.period_month = ? and monthly.period_status = 'open'",
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
        f"closed {period} as version {version}: {count} lines, net {Decimal(net):,.2f}"
        + (f"; accepted {accepted} payout change(s)" if accepted else "")
        + (f" ({reason})" if reason else ""),
        int(count),
        Decimal(net),
    )


@contextmanager
def _period_ledger(
    warehouse: Path, period: str
) -> Iterator[tuple[duckdb.DuckDBPyConnection, dict[str, PeriodState], PeriodState]]:
    """The warehouse under its write lock, every period's state and ``period``'s (which must exist)."""
    period = parse_period(period)
    _require_warehouse(warehouse)
    with warehouse_write_lock(warehouse), duckdb.connect(str(warehouse)) as con:
        ledger_ready(con)
        states = period_states(con)
        state = states.get(period)
        if state is None:
            raise FinanceError(f"there is no commission period {period} in the warehouse")
        yield con, states, state


def close_period(
    warehouse: Path,
    period: str,
    acted_by: str | None = None,
    accept_change: str | None = None,
    as_of: dt.date | None = None,
    force: str | None = None,
) -> LedgerAction:
    """Freeze ``period``'s payout lines into the ledger as a new version.

    Closing a closed period is a no-op. Refused with a :class:`FinanceError`: a period before the
    go-live month (history), a period while an earlier one is open, a period with no commission
    data, a period that has not ended by ``as_of`` (default today, UTC) unless ``force`` gives the
    reason, and a period whose net payouts moved by more than the threshold since a previous run
    (:mod:`finance.payout_changes`) unless ``accept_change`` gives the reason they are right. The
    reasons are kept on the close's ledger event.
    """
    as_of = as_of or dt.datetime.now(dt.UTC).date()
    with _period_ledger(warehouse, period) as (con, states, state):
        period = state.period
        if state.status == "closed":
            return LedgerAction(
                period,
                "close",
                state.closed_version or 0,
                False,
                f"{period} is already closed (version {state.closed_version}); nothing to do",
            )
        _refuse_history(state)
        earlier_open = [p for p, s in states.items() if p < period and s.status == "open"]
        if earlier_open:
            raise FinanceError(
                f"cannot close {period}: earlier period(s) still open: {', '.join(earlier_open[:6])}"
                f"{' ...' if len(earlier_open) > 6 else ''}; close them first, in order "
                f"(`spm close-period --through {period}` closes them all)"
            )
        _check_marts_current(con, period)
        reason, accepted = _reason(con, state, as_of, force, accept_change)
        return _freeze(con, state, acted_by, reason, accepted)


def close_through(
    warehouse: Path,
    through: str,
    acted_by: str | None = None,
    accept_change: str | None = None,
    as_of: dt.date | None = None,
    force: str | None = None,
) -> CloseOutcome:
    """Close every open period up to ``through``, in order, one transaction each.

    Each period is checked and frozen as :func:`close_period` does, from ``marts.fct_payouts`` as
    it stands: a close changes no open period's lines (its adjustments to earlier periods are
    frozen with it, so the next period has none to post), so every period is frozen from the
    state that includes the previous close, and the models that read the ledger are rebuilt once
    afterwards. Periods before the go-live month are skipped (history). The first period that
    cannot be closed stops the run: refused with a :class:`FinanceError` when it is the first of
    all (nothing written), otherwise the periods before it stay closed and the outcome says where
    it stopped and why.
    """
    as_of = as_of or dt.datetime.now(dt.UTC).date()
    with _period_ledger(warehouse, through) as (con, states, state):
        through = state.period
        _refuse_history(state)
        pending = [s for p, s in states.items() if p <= through and s.status == "open"]
        if not pending:
            return CloseOutcome(through, ())
        _check_marts_current(con, through)
        actions: list[LedgerAction] = []
        for pending_state in pending:
            try:
                reason, accepted = _reason(con, pending_state, as_of, force, accept_change)
                actions.append(_freeze(con, pending_state, acted_by, reason, accepted))
            except (FinanceError, duckdb.Error) as error:
                if not actions:
                    raise FinanceError(str(error)) from None
                return CloseOutcome(through, tuple(actions), pending_state.period, str(error))
        return CloseOutcome(through, tuple(actions))


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
