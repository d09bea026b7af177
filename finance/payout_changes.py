"""Net payout changes from one run to the next: the warning that an input changed payroll.

After a run has rebuilt the finance marts, :func:`record_payout_run` keeps the net payout of
every open period, per rep and currency and for the company per currency, in
``audit.payout_snapshots`` under the run's id, compares them with the previous recorded run, and
adds every change larger than the threshold (``core.settings.payout_change_threshold``, a share
of the previous amount) to ``audit.payout_changes``. Only months that have ended by the run (UTC)
are compared: the month under way grows with every deal won, which is no surprise, while a month
that has ended should change only through late data or an edited plan. A run held back by a failed check does not
rebuild the marts and records nothing, so the next run is compared with the last one that did.

A period with a change recorded after its last close (:func:`unaccepted_changes`) is not closed
by ``finance.ledger.close_period`` unless the close accepts it with a reason, which the ledger
keeps. Everything is set-based SQL on the warehouse; nothing loops over rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb

#: Schema of the run-to-run payout audit (never published to BI tools).
AUDIT_SCHEMA = "audit"
#: Runs whose snapshots are kept (the latest is the one the next run compares with).
SNAPSHOT_RUNS_KEPT = 10

_DDL = f"""
create schema if not exists {AUDIT_SCHEMA};
create table if not exists {AUDIT_SCHEMA}.payout_snapshots (
    run_id varchar not null,
    recorded_at timestamp not null,
    period_month varchar not null,
    employee_id varchar,  -- null: the company's total
    currency_code varchar not null,
    net_payout_amount decimal(18, 2) not null
);
create table if not exists {AUDIT_SCHEMA}.payout_changes (
    run_id varchar not null,
    recorded_at timestamp not null,
    period_month varchar not null,
    employee_id varchar,  -- null: the company's total
    currency_code varchar not null,
    before_amount decimal(18, 2) not null,
    after_amount decimal(18, 2) not null,
    change_share decimal(18, 4),  -- (after - before) / |before|; null when before is 0
    threshold decimal(9, 4) not null
);
"""

_SNAPSHOT = f"""
insert into {AUDIT_SCHEMA}.payout_snapshots
select $run_id, $recorded_at, payouts.period_month, payouts.employee_id, payouts.currency_code,
    sum(payouts.net_payout_amount)
from marts.mart_commissions_monthly as payouts
inner join intermediate.int_payout_periods_classified as periods
    on payouts.period_month = periods.period_month and periods.period_status = 'open'
group by grouping sets ((payouts.period_month, payouts.employee_id, payouts.currency_code),
    (payouts.period_month, payouts.currency_code))
"""

_COMPARE = f"""
insert into {AUDIT_SCHEMA}.payout_changes
with previous_run as (
    select run_id from {AUDIT_SCHEMA}.payout_snapshots
    where run_id <> $run_id and recorded_at <= $recorded_at
    group by run_id
    order by max(recorded_at) desc
    limit 1
),

before as (
    select snapshots.* from {AUDIT_SCHEMA}.payout_snapshots as snapshots
    inner join previous_run on snapshots.run_id = previous_run.run_id
),

after as (
    select * from {AUDIT_SCHEMA}.payout_snapshots where run_id = $run_id
),

compared as (
    select
        coalesce(after.period_month, before.period_month) as period_month,
        coalesce(after.employee_id, before.employee_id) as employee_id,
        coalesce(after.currency_code, before.currency_code) as currency_code,
        coalesce(before.net_payout_amount, 0) as before_amount,
        coalesce(after.net_payout_amount, 0) as after_amount
    from after
    full outer join before
        on after.period_month = before.period_month
        and after.employee_id is not distinct from before.employee_id
        and after.currency_code = before.currency_code
)

select $run_id, $recorded_at, compared.period_month, compared.employee_id, compared.currency_code,
    compared.before_amount, compared.after_amount,
    case when compared.before_amount <> 0
        then round((compared.after_amount - compared.before_amount) / abs(compared.before_amount), 4)
    end,
    $threshold
from compared
-- periods both runs computed, that have ended and are still open: a new month, the month under
-- way (its payouts grow with every deal won) or a period closed since is no change
where compared.period_month in (select period_month from before)
    and compared.period_month < strftime(cast($recorded_at as date), '%Y-%m')
    and compared.period_month in (
        select period_month from intermediate.int_payout_periods_classified where period_status = 'open'
    )
    and abs(compared.after_amount - compared.before_amount) > $threshold * abs(compared.before_amount)
"""

_PRUNE = f"""
delete from {AUDIT_SCHEMA}.payout_snapshots
where run_id not in (
    select run_id from {AUDIT_SCHEMA}.payout_snapshots
    group by run_id
    order by max(recorded_at) desc
    limit {SNAPSHOT_RUNS_KEPT}
)
"""


@dataclass(frozen=True)
class PayoutChange:
    """A net payout that moved by more than the threshold since the previous run."""

    period: str
    employee_id: str | None  # None: the company's total
    currency: str
    before: Decimal
    after: Decimal
    share: Decimal | None  # None: nothing was paid before

    def describe(self) -> str:
        """``2025-03 rep 1042: 1,200.00 -> 4,800.00 USD (+300.0 %)``."""
        who = f"rep {self.employee_id}" if self.employee_id is not None else "company"
        share = "new" if self.share is None else f"{self.share * 100:+.1f} %"
        return f"{self.period} {who}: {self.before:,.2f} -> {self.after:,.2f} {self.currency} ({share})"


_CHANGE_COLUMNS = "period_month, employee_id, currency_code, before_amount, after_amount, change_share"
_CHANGE_ORDER = "order by period_month, employee_id nulls first, currency_code"


def _changes(rows: list[tuple]) -> list[PayoutChange]:
    return [PayoutChange(*row) for row in rows]


def record_payout_run(
    con: duckdb.DuckDBPyConnection, run_id: str, threshold: Decimal, recorded_at: dt.datetime | None = None
) -> list[PayoutChange]:
    """Keep this run's open-period net payouts and return (and record) the changes above ``threshold``
    since the previous recorded run; in one transaction."""
    recorded_at = recorded_at or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    params = {"run_id": run_id, "recorded_at": recorded_at}
    con.execute(_DDL)
    con.execute("begin transaction")
    try:
        con.execute(f"delete from {AUDIT_SCHEMA}.payout_changes where run_id = $run_id", {"run_id": run_id})
        con.execute(f"delete from {AUDIT_SCHEMA}.payout_snapshots where run_id = $run_id", {"run_id": run_id})
        con.execute(_SNAPSHOT, params)
        con.execute(_COMPARE, {**params, "threshold": threshold})
        con.execute(_PRUNE)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return run_changes(con, run_id)


def _audit_ready(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = 'payout_changes'",
            [AUDIT_SCHEMA],
        ).fetchone()[0]
    )


def run_changes(con: duckdb.DuckDBPyConnection, run_id: str) -> list[PayoutChange]:
    """The changes a run recorded."""
    if not _audit_ready(con):
        return []
    return _changes(
        con.execute(
            f"select {_CHANGE_COLUMNS} from {AUDIT_SCHEMA}.payout_changes where run_id = ? {_CHANGE_ORDER}", [run_id]
        ).fetchall()
    )


def latest_run_changes(con: duckdb.DuckDBPyConnection) -> list[PayoutChange]:
    """The changes the latest recorded run found ([] before any run was recorded)."""
    if not _audit_ready(con):
        return []
    latest = con.execute(
        f"select run_id from {AUDIT_SCHEMA}.payout_snapshots group by run_id order by max(recorded_at) desc limit 1"
    ).fetchone()
    return run_changes(con, latest[0]) if latest else []


def recorded_changes(warehouse: Path | str, run_id: str) -> list[PayoutChange]:
    """The changes a run recorded, read-only; [] when there are none or the warehouse is busy."""
    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            return run_changes(con, run_id)
    except duckdb.Error:
        return []


def unaccepted_changes(con: duckdb.DuckDBPyConnection, period: str) -> list[PayoutChange]:
    """The changes of ``period`` recorded after its latest close (every close covers those before it:
    a close with such changes needs ``accept_change``), one per rep and currency, latest first wins."""
    if not _audit_ready(con):
        return []
    return _changes(
        con.execute(
            f"""
            select {_CHANGE_COLUMNS} from {AUDIT_SCHEMA}.payout_changes as changes
            where period_month = $period
                and recorded_at > coalesce(
                    (select max(acted_at) from ledger.period_events
                     where period_month = $period and action = 'close'),
                    timestamp '1900-01-01')
            qualify row_number() over (
                partition by employee_id, currency_code order by recorded_at desc) = 1
            {_CHANGE_ORDER}
            """,
            {"period": period},
        ).fetchall()
    )
