"""Jobs and schedules: the daily run, the checks, the monthly close and the publish alone."""

import dagster as dg

from finance.periods import previous_period
from orchestration.defs.dbt import FINANCE_GATES
from orchestration.defs.finance import LEDGER_KEYS, LEDGER_STEP
from orchestration.defs.serving import SERVING_KEY

#: Tag on every run that writes the warehouse; dagster.yaml lets one such run at a time out of
#: the run queue (runs launched from the UI or a schedule).
WRITER_TAG = {"spm/writes": "warehouse"}

#: What the daily run builds: everything but the ledger, which only a close or reopen writes
#: (its dbt source tests still run, so that dbt builds the whole project, not a subset).
WAREHOUSE_SELECTION = (dg.AssetSelection.all() - dg.AssetSelection.assets(*LEDGER_KEYS)) | (
    dg.AssetSelection.checks_for_assets(*LEDGER_KEYS)
)

warehouse_job = dg.define_asset_job(
    name="warehouse_job",
    selection=WAREHOUSE_SELECTION,
    description="Load every source (dlt), validate the loads (Great Expectations), then build and test every "
    "dbt model in one dbt build. The same job runs from `spm run`, the UI and the daily schedule.",
    executor_def=dg.in_process_executor,
    tags=WRITER_TAG,
)

#: What `spm check` runs: every check, no asset.
CHECKS_SELECTION = dg.AssetSelection.all_asset_checks()

checks_job = dg.define_asset_job(
    name="checks_job",
    selection=CHECKS_SELECTION,
    description="Run every check (quality suites, dbt tests, source freshness) without rebuilding anything. "
    "Run config ops.expectation_suites.config.full: true re-validates every row instead of the current load.",
    executor_def=dg.in_process_executor,
    tags=WRITER_TAG,
)

close_period_job = dg.define_asset_job(
    name="close_period_job",
    # the finance gates too, so that a close never rebuilds a commission model dbt would hold back
    selection=dg.AssetSelection.assets(*LEDGER_KEYS).downstream() | dg.AssetSelection.assets(*FINANCE_GATES),
    description="Close (or reopen) a commission period, then rebuild and test the models that read the ledger. "
    "Config: ops.ledger.config.period (YYYY-MM; empty = last month), action (close | reopen), reason, acted_by.",
    executor_def=dg.in_process_executor,
    tags=WRITER_TAG,
)

publish_job = dg.define_asset_job(
    name="publish_job",
    selection=dg.AssetSelection.assets(SERVING_KEY),
    description="Publish the warehouse's BI-facing tables to the serving database as they stand (what `spm publish` "
    "runs). The daily job and a period close publish at their end.",
    executor_def=dg.in_process_executor,
    tags=WRITER_TAG,  # it reads the warehouse under the writers' lock: one such run at a time
)

daily_schedule = dg.ScheduleDefinition(
    name="daily_incremental",
    job=warehouse_job,
    cron_schedule="0 2 * * *",
    execution_timezone="UTC",
    description="Every day at 02:00 UTC: load what landed since the last run and rebuild the models.",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)


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
        run_config={
            "ops": {LEDGER_STEP: {"config": {"period": period, "action": "close", "acted_by": "monthly_close"}}}
        },
    )


def definitions() -> dg.Definitions:
    """The four jobs and two schedules."""
    return dg.Definitions(
        jobs=[warehouse_job, checks_job, close_period_job, publish_job], schedules=[daily_schedule, monthly_close]
    )
