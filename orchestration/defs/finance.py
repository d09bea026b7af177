"""Finance: the commission ledger, written by the period close and reopen.

The ledger (``ledger.payout_lines``, ``ledger.period_events``) is an asset of its own, written
only by the ``ledger`` step (``finance.ledger``): a close freezes a period's payout lines as a new
version, a reopen logs why; a close ``through`` a month closes every open period up to it, one
transaction each. ``close_period_job`` runs that step and then, through the dbt assets, the
models the ledger feeds (``schedules.CLOSE_SELECTION``), once, so every close is a Dagster run
with its materializations and checks, like any other. `spm close-period` and `spm reopen-period` run
the same job; the ``monthly_close`` schedule (``schedules.py``) closes the previous month.

``audit/payout_changes`` follows the monthly commission mart in every run that rebuilt it: it
keeps the open periods' net payouts of the run and records the changes above the threshold since
the previous run (``finance.payout_changes``); its check warns about them, and a close of a period
with such changes needs ``accept_change``.
"""

from collections.abc import Iterator
from decimal import Decimal
from typing import Literal

import dagster as dg
import duckdb
from pydantic import Field

from core import settings
from finance.ledger import CloseOutcome, close_period, close_through, reopen_period
from finance.payout_changes import latest_run_changes, record_payout_run
from finance.periods import FinanceError, parse_as_of, previous_period
from orchestration.defs.ingestion import WAREHOUSE_POOL
from orchestration.resources import WarehouseResource

LEDGER_LINES = dg.AssetKey(["ledger", "payout_lines"])
LEDGER_EVENTS = dg.AssetKey(["ledger", "period_events"])
LEDGER_SUMMARIES = dg.AssetKey(["ledger", "period_summaries"])
LEDGER_KEYS = (LEDGER_LINES, LEDGER_EVENTS, LEDGER_SUMMARIES)
#: The model that decides which rows a finance build re-derives (macros/payout_scope.sql).
PAYOUT_SCOPE = dg.AssetKey(["intermediate", "int_payout_scope_detected"])
PAYOUT_CHANGES = dg.AssetKey(["audit", "payout_changes"])
#: The mart whose net payouts are compared run to run.
COMMISSIONS_MONTHLY = dg.AssetKey(["marts", "mart_commissions_monthly"])
#: Name of the check that warns about payouts that moved more than the threshold.
PAYOUT_CHANGE_CHECK = "net_payouts_within_change_threshold"
#: Step names of the audit and of its check, short enough for the run's step lines.
PAYOUT_CHANGES_STEP = "payout_changes"
PAYOUT_CHANGE_CHECK_STEP = "payout_change_check"
#: Name of the ledger's step.
LEDGER_STEP = "ledger"


class LedgerConfig(dg.Config):
    """Which period to close or reopen, and who does it."""

    action: Literal["close", "reopen"] = Field(default="close", description="close or reopen the period.")
    period: str = Field(
        default="", description="The period, YYYY-MM; empty: the month before today (UTC), or `through`."
    )
    through: str = Field(
        default="",
        description="Close every open period up to this one (YYYY-MM), in order, one transaction each; stops at "
        "the first that cannot be closed. Instead of `period`.",
    )
    as_of: str = Field(
        default="",
        description="The close's date (YYYY-MM-DD; empty: today, UTC): a period that has not ended by then is "
        "refused unless `force` gives a reason.",
    )
    force: str = Field(
        default="",
        description="Close a period before it has ended: the reason (kept in the ledger with who and when).",
    )
    reason: str = Field(default="", description="Why a period is reopened (required for a reopen; kept).")
    acted_by: str = Field(default="dagster", description="Who closes or reopens (kept in the ledger).")
    accept_change: str = Field(
        default="",
        description="Close although net payouts changed by more than the threshold since a previous run: "
        "the reason (kept in the ledger).",
    )


class LedgerRefused(dg.Failure):
    """The close or reopen was refused (a period out of order, not closable, ...); nothing written."""


def act(config: LedgerConfig, warehouse: WarehouseResource) -> CloseOutcome:
    """Carry out the configured close (of one period or through one) or reopen on the warehouse."""
    if config.period and config.through:
        raise FinanceError("give either a period or `through`, not both")
    if config.through and config.action != "close":
        raise FinanceError("`through` closes periods; a reopen names its period")
    as_of = parse_as_of(config.as_of)
    if config.through:
        return close_through(
            warehouse.path,
            config.through,
            acted_by=config.acted_by,
            accept_change=config.accept_change,
            as_of=as_of,
            force=config.force,
        )
    period = config.period or previous_period(as_of)
    if config.action == "reopen":
        action = reopen_period(warehouse.path, period, config.reason, acted_by=config.acted_by)
    else:
        action = close_period(
            warehouse.path,
            period,
            acted_by=config.acted_by,
            accept_change=config.accept_change,
            as_of=as_of,
            force=config.force,
        )
    return CloseOutcome(period, (action,))


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            LEDGER_LINES,
            group_name="ledger",
            kinds={"duckdb"},
            description="Every payout line of every closed version of a commission period, frozen at close "
            "(append-only: never updated or deleted).",
        ),
        dg.AssetSpec(
            LEDGER_EVENTS,
            group_name="ledger",
            kinds={"duckdb"},
            description="Each close and reopen of a commission period: version, who, when, why, lines and net.",
        ),
        dg.AssetSpec(
            LEDGER_SUMMARIES,
            group_name="ledger",
            kinds={"duckdb"},
            description="Each rep's month head of every closed version, as closed: plan, credited bookings, quota "
            "and attainment (append-only).",
        ),
    ],
    name=LEDGER_STEP,
    pool=WAREHOUSE_POOL,
    description="Close a commission period (freeze its payout lines as a new ledger version) or reopen it.",
)
def ledger(
    context: dg.AssetExecutionContext, config: LedgerConfig, warehouse: WarehouseResource
) -> Iterator[dg.MaterializeResult]:
    """Close or reopen the configured period(s); closing a closed period changes nothing. A close
    through a period that stops after closing some reports where it stopped (metadata
    ``stopped_at`` and ``not_closed``, an error in the log): the models that read the ledger are
    still rebuilt for the periods it closed."""
    try:
        outcome = act(config, warehouse)  # takes the warehouse's write lock itself
    except FinanceError as error:
        raise LedgerRefused(description=str(error), metadata={"refused": True}) from None
    if outcome.stopped_at:
        context.log.error(outcome.message)
    else:
        context.log.info(outcome.message)
    last = outcome.actions[-1] if outcome.actions else None
    metadata = {
        "action": last.action if last else "close",
        "period": last.period if last else outcome.through,
        "version": last.version if last else 0,
        "changed": any(action.changed for action in outcome.actions),
        "message": outcome.message,
        "closed_periods": ", ".join(action.period for action in outcome.actions if action.changed),
        **({"stopped_at": outcome.stopped_at, "not_closed": outcome.stop_reason} if outcome.stopped_at else {}),
    }
    with duckdb.connect(str(warehouse.path), read_only=True) as connection:
        lines, events, summaries = (
            int(connection.execute(f"select count(*) from {table}").fetchone()[0])
            for table in ("ledger.payout_lines", "ledger.period_events", "ledger.period_summaries")
        )
    yield dg.MaterializeResult(
        asset_key=LEDGER_LINES,
        metadata={
            **metadata,
            "lines": sum(action.line_count for action in outcome.actions),
            "net_amount": str(sum((action.net_amount for action in outcome.actions), Decimal("0.00"))),
            "dagster/row_count": dg.MetadataValue.int(lines),
        },
    )
    yield dg.MaterializeResult(
        asset_key=LEDGER_EVENTS, metadata={**metadata, "dagster/row_count": dg.MetadataValue.int(events)}
    )
    yield dg.MaterializeResult(
        asset_key=LEDGER_SUMMARIES, metadata={**metadata, "dagster/row_count": dg.MetadataValue.int(summaries)}
    )


@dg.multi_asset(
    name=PAYOUT_CHANGES_STEP,
    specs=[
        dg.AssetSpec(
            PAYOUT_CHANGES,
            deps=[COMMISSIONS_MONTHLY],
            group_name="audit",
            kinds={"duckdb"},
            description="Net payouts of the open periods per run (audit.payout_snapshots) and the changes above the "
            "threshold (SPM_PAYOUT_CHANGE_THRESHOLD, default 25 %) since the previous run, per rep and for the "
            "company.",
        )
    ],
    pool=WAREHOUSE_POOL,
)
def payout_changes(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> Iterator:
    """Record this run's open-period net payouts and the changes above the threshold since the previous run."""
    threshold = settings.payout_change_threshold()
    with warehouse.writing(context), duckdb.connect(str(warehouse.path)) as connection:
        changes = record_payout_run(connection, context.run.run_id, threshold)
    yield dg.MaterializeResult(
        asset_key=PAYOUT_CHANGES,
        metadata={"changes": len(changes), "threshold": str(threshold)},
    )


@dg.multi_asset_check(
    name=PAYOUT_CHANGE_CHECK_STEP,
    specs=[
        dg.AssetCheckSpec(
            PAYOUT_CHANGE_CHECK,
            asset=PAYOUT_CHANGES,
            blocking=False,
            description="No rep's or company net payout of an open period moved by more than the threshold in the "
            "latest recorded run (a warning; the period's close then needs --accept-change).",
        )
    ],
    pool=WAREHOUSE_POOL,
)
def net_payouts_within_change_threshold(warehouse: WarehouseResource) -> Iterator[dg.AssetCheckResult]:
    """Warn about the changes the latest recorded run found (a check apart from the asset, so
    that `spm check` runs it without rebuilding)."""
    with duckdb.connect(str(warehouse.path), read_only=True) as connection:
        changes = latest_run_changes(connection)
    listed = [change.describe() for change in changes]
    yield dg.AssetCheckResult(
        asset_key=PAYOUT_CHANGES,
        check_name=PAYOUT_CHANGE_CHECK,
        passed=not changes,
        severity=dg.AssetCheckSeverity.WARN,
        description=(
            f"{len(changes)} net payout(s) moved by more than the threshold since the previous run: "
            + "; ".join(listed[:3])
            + ("; ..." if len(listed) > 3 else "")
            if changes
            else None
        ),
        metadata={"changes": dg.MetadataValue.md("\n".join(f"- {line}" for line in listed[:200]) or "none")},
    )


def definitions() -> dg.Definitions:
    """The ledger asset and the run-to-run payout audit."""
    return dg.Definitions(assets=[ledger, payout_changes], asset_checks=[net_payouts_within_change_threshold])
