"""The monthly period close as a Dagster job: finance runs it from the UI, the schedule on the 5th.

The job calls the same code as `spm close-period` (spm.finance.ledger): it freezes the period's
payout lines into the ledger and rebuilds the models that read the ledger. The period comes from
run config; the schedule closes the month before the one it runs in.
"""

import datetime as dt

import dagster as dg

from orchestration.jobs import WRITER_TAG
from orchestration.resources import WarehouseResource
from spm.finance.ledger import close_period
from spm.finance.periods import FinanceError, previous_period


class ClosePeriodConfig(dg.Config):
    """Which period to close, and who closes it."""

    period: str = ""  # YYYY-MM; empty = the month before today (UTC)
    acted_by: str = "dagster"


@dg.op(description="Freeze a commission period's payout lines into the ledger and rebuild the finance marts.")
def close_commission_period(context: dg.OpExecutionContext, config: ClosePeriodConfig, warehouse: WarehouseResource):
    """Close the configured period; an already closed period is a no-op, an out-of-order close fails."""
    period = config.period or previous_period(dt.datetime.now(dt.UTC).date())
    try:
        result = close_period(warehouse.path, period, acted_by=config.acted_by)
    except FinanceError as exc:
        raise dg.Failure(description=str(exc)) from exc
    context.log.info(result.message)
    context.add_output_metadata(
        {
            "period": period,
            "version": result.version,
            "changed": result.changed,
            "lines": result.line_count,
            "net_amount": str(result.net_amount),
        }
    )
    return result.message


@dg.job(
    name="close_period_job",
    description="Close a commission period (config: period YYYY-MM; empty = last month).",
    tags=WRITER_TAG,
    executor_def=dg.in_process_executor,
)
def close_period_job() -> None:
    """One op: the close."""
    close_commission_period()


@dg.schedule(
    job=close_period_job,
    cron_schedule="0 6 5 * *",
    execution_timezone="UTC",
    name="monthly_close",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="On the 5th at 06:00 UTC, close the previous month's commissions.",
)
def monthly_close(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """Close the month before the scheduled time."""
    period = previous_period(context.scheduled_execution_time.date())
    return dg.RunRequest(
        run_key=f"close-{period}",
        run_config={"ops": {"close_commission_period": {"config": {"period": period, "acted_by": "monthly_close"}}}},
    )
