"""Commission periods ('YYYY-MM') and reading their state from the warehouse."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

PERIOD_PATTERN = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class FinanceError(RuntimeError):
    """A finance action that cannot be carried out; the message says why and what to do."""


def parse_period(text: str) -> str:
    """Validate a commission period written as ``YYYY-MM`` and return it."""
    if not PERIOD_PATTERN.match(text or ""):
        raise FinanceError(f"period {text!r} is not a month written as YYYY-MM (e.g. 2025-06)")
    return text


def previous_period(day: dt.date) -> str:
    """The month before ``day``'s month, as ``YYYY-MM`` (the period a monthly close closes)."""
    first = day.replace(day=1)
    return f"{first - dt.timedelta(days=1):%Y-%m}"


def period_end(period: str) -> dt.date:
    """The last day of the period ``YYYY-MM``."""
    year, month = int(period[:4]), int(period[5:7])
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    return following - dt.timedelta(days=1)


def parse_as_of(text: str | None) -> dt.date:
    """The as-of date of a close, written ``YYYY-MM-DD``; blank: today (UTC)."""
    if not (text or "").strip():
        return dt.datetime.now(dt.UTC).date()
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise FinanceError(f"as-of date {text!r} is not a date written as YYYY-MM-DD (e.g. 2026-01-05)") from None


@dataclass(frozen=True)
class PeriodState:
    """What the ledger says about one period right now."""

    period: str
    status: str  # open | closed | history (before the go-live month: never closed or paid)
    closed_version: int | None
    latest_version: int
    go_live_month: str | None = None


def ledger_ready(con: duckdb.DuckDBPyConnection) -> None:
    """Fail with a clear message when the warehouse has no ledger or finance models yet."""
    found = {
        (schema, name)
        for schema, name in con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where (table_schema = 'ledger' and table_name in ('payout_lines', 'period_events', 'period_summaries')) "
            "or (table_schema = 'marts' and table_name in ('fct_payouts', 'mart_commissions_monthly')) "
            "or (table_schema = 'intermediate' and table_name = 'int_payout_periods_classified')"
        ).fetchall()
    }
    if len(found) < 6:
        raise FinanceError("the warehouse has no commission models yet: run `spm run` first")


def require_mart(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Fail with a clear message when the warehouse has no ``marts.<name>`` yet."""
    found = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'marts' and table_name = ?", [name]
    ).fetchone()[0]
    if not found:
        raise FinanceError(f"the warehouse has no {name} yet: run `spm run` first")


def period_states(con: duckdb.DuckDBPyConnection) -> dict[str, PeriodState]:
    """Every commission period with its live status, read from the ledger (not from a mart)."""
    columns = {
        row[0]
        for row in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = 'intermediate' and table_name = 'int_payout_periods_classified'"
        ).fetchall()
    }
    # built before the go-live month existed: no period is history
    go_live = "periods.go_live_month" if "go_live_month" in columns else "null"
    rows = con.execute(
        f"""
        select
            periods.period_month,
            periods.period_status,
            periods.closed_version,
            coalesce((select max(ledger_version) from ledger.payout_lines as lines
                      where lines.period_month = periods.period_month), 0),
            {go_live}
        from intermediate.int_payout_periods_classified as periods
        order by periods.period_month
        """
    ).fetchall()
    return {row[0]: PeriodState(row[0], row[1], row[2], int(row[3]), row[4]) for row in rows}


def history_refusal(state: PeriodState) -> str:
    """Why a history period (before the go-live month) cannot be closed or paid."""
    return (
        f"{state.period} is before the go-live period {state.go_live_month} (var commission_go_live_month in "
        "dbt_project/dbt_project.yml): it is history, computed but never closed or paid"
    )


def plan_rule_violations(warehouse: Path | str) -> list[str]:
    """Messages of the broken sales-plan rules (file, line, plan, rule), read-only; [] when none."""
    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            rows = con.execute(
                "select message from intermediate.int_plan_rule_violations order by source_file, source_line, rule"
            ).fetchall()
    except duckdb.Error:
        return []
    return [row[0] for row in rows]
