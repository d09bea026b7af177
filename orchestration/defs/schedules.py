"""Jobs and schedules: the daily run, the checks, the monthly close and the publish alone."""

import dagster as dg

from finance.periods import previous_period
from orchestration.defs.dbt import FINANCE_GATES
from orchestration.defs.finance import LEDGER_KEYS, LEDGER_STEP, PAYOUT_SCOPE
from orchestration.defs.reporting import PACK_KEY
from orchestration.defs.serving import PUBLISH_STEP, SERVING_KEY

#: Tag on every run that writes the warehouse; dagster.yaml lets one such run at a time out of
#: the run queue (runs launched from the UI or a schedule).
WRITER_TAG = {"spm/writes": "warehouse"}

#: What the daily run builds: everything but the ledger, which only a close or reopen writes
#: (its dbt source tests still run, so that dbt builds the whole project, not a subset), the
#: publish, which runs after it (``publish_after_success``), and the monthly pack, after that.
WAREHOUSE_SELECTION = (dg.AssetSelection.all() - dg.AssetSelection.assets(*LEDGER_KEYS, SERVING_KEY, PACK_KEY)) | (
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

_LEDGER = dg.AssetSelection.assets(*LEDGER_KEYS)
#: What a close or reopen rebuilds: the ledger and the models its rows feed (what reads it, and
#: everything downstream of that), but not what is downstream of the ledger only through the payout
#: scope (int_payout_scope_detected fingerprints the ledger; the commission lines it scopes,
#: fct_credits to int_payout_lines_computed, do not read the ledger and do not change at a close).
#: Without the scope model in the build, the models rebuilt re-derive every row (macros/payout_scope.sql),
#: and the next `spm run` re-derives every row once. Plus the finance gates, so that a close never
#: rebuilds a commission model dbt would hold back. The plan-rules gate reads the ledger too (an
#: approved manual adjustment whose pay period closed without it), but it is a view that every
#: commission model depends on: rebuilding what is downstream of it would rebuild the commission
#: lines, which a close does not change; it is rebuilt (re-created) as a gate.
CLOSE_SELECTION = (
    (
        (_LEDGER.downstream(depth=1) - _LEDGER - dg.AssetSelection.assets(PAYOUT_SCOPE, *FINANCE_GATES)).downstream()
        | _LEDGER
    )
    - dg.AssetSelection.assets(SERVING_KEY, PACK_KEY)
) | dg.AssetSelection.assets(*FINANCE_GATES)

close_period_job = dg.define_asset_job(
    name="close_period_job",
    selection=CLOSE_SELECTION,
    description="Close (or reopen) a commission period, or every open period through one, then rebuild and test "
    "the models the ledger feeds (once). Config ops.ledger.config: period (YYYY-MM; empty = the month before "
    "as_of) or through (YYYY-MM), action (close | reopen), as_of (YYYY-MM-DD; empty = today, UTC), force (reason "
    "to close a period before it ended), accept_change, reason, acted_by.",
    executor_def=dg.in_process_executor,
    tags=WRITER_TAG,
)

publish_job = dg.define_asset_job(
    name="publish_job",
    selection=dg.AssetSelection.assets(SERVING_KEY),
    description="Publish the warehouse's BI-facing tables to the serving database: after every successful "
    "warehouse_job and close_period_job (the publish_after_success sensor, or `spm` itself), and alone from "
    "`spm publish` (the warehouse as it stands). Config ops.publish.config.validated_by_run names the run it follows.",
    executor_def=dg.in_process_executor,
    tags=WRITER_TAG,  # it reads the warehouse under the writers' lock: one such run at a time
)

monthly_pack_job = dg.define_asset_job(
    name="monthly_pack_job",
    selection=dg.AssetSelection.assets(PACK_KEY),
    description="Write the monthly pack (HTML and PDF) of the published data: after every successful publish_job "
    "(the monthly_pack_after_publish sensor, or `spm` itself). It reads the serving file only: no lock, no wait. "
    "Config ops.monthly_pack.config.month (YYYY-MM; empty = the as-of month of the data), out_dir.",
    executor_def=dg.in_process_executor,
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
    day = context.scheduled_execution_time.date()
    period = previous_period(day)
    config = {"period": period, "action": "close", "acted_by": "monthly_close", "as_of": day.isoformat()}
    return dg.RunRequest(run_key=f"close-{period}", run_config={"ops": {LEDGER_STEP: {"config": config}}})


#: Tag `spm` puts on the runs it starts (it publishes after them itself).
SPM_COMMAND_TAG = "spm/command"


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[warehouse_job, close_period_job],
    request_job=publish_job,
    name="publish_after_success",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="After every successful warehouse_job or close_period_job launched from the UI or a schedule, "
    "publish what it validated to the serving file (runs `spm` started publish themselves).",
)
def publish_after_success(context: dg.RunStatusSensorContext) -> dg.RunRequest | dg.SkipReason:
    """Request ``publish_job`` for the run that just succeeded."""
    run = context.dagster_run
    if SPM_COMMAND_TAG in run.tags:
        return dg.SkipReason(f"run {run.run_id} was started by `spm`, which published after it")
    return dg.RunRequest(
        run_key=f"publish-after-{run.run_id}",
        run_config={"ops": {PUBLISH_STEP: {"config": {"validated_by_run": run.run_id}}}},
    )


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[publish_job],
    request_job=monthly_pack_job,
    name="monthly_pack_after_publish",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="After every successful publish_job launched from the UI, a schedule or a sensor, rebuild the "
    "monthly pack from the serving file it wrote (`spm` rebuilds it itself after the publishes it starts).",
)
def monthly_pack_after_publish(context: dg.RunStatusSensorContext) -> dg.RunRequest | dg.SkipReason:
    """Request ``monthly_pack_job`` for the publish that just succeeded."""
    run = context.dagster_run
    if SPM_COMMAND_TAG in run.tags:
        return dg.SkipReason(f"publish {run.run_id} was started by `spm`, which writes the pack after it")
    return dg.RunRequest(run_key=f"pack-after-{run.run_id}")


def definitions() -> dg.Definitions:
    """The five jobs, two schedules and the two sensors (publish, then the monthly pack)."""
    return dg.Definitions(
        jobs=[warehouse_job, checks_job, close_period_job, publish_job, monthly_pack_job],
        schedules=[daily_schedule, monthly_close],
        sensors=[publish_after_success, monthly_pack_after_publish],
    )
