"""Jobs and schedules."""

from __future__ import annotations

import dagster as dg

#: Tag on every run that writes the warehouse; dagster.yaml limits such runs to one at a time.
WRITER_TAG = {"spm/writes": "warehouse"}

warehouse_job = dg.define_asset_job(
    name="warehouse_job",
    selection=dg.AssetSelection.all(),
    description="Load every source (dlt) and build and test every dbt model, in one process.",
    executor_def=dg.in_process_executor,
    tags=WRITER_TAG,
)

checks_job = dg.define_asset_job(
    name="checks_job",
    selection=dg.AssetSelection.all_asset_checks(),
    description="Run every check (quality suites, dbt tests, source freshness) without rebuilding anything. "
    "Run config ops.expectation_suites.config.full: true re-validates every row instead of the current load.",
    executor_def=dg.in_process_executor,
    tags=WRITER_TAG,
)

daily_schedule = dg.ScheduleDefinition(
    name="daily_incremental",
    job=warehouse_job,
    cron_schedule="0 2 * * *",
    execution_timezone="UTC",
    description="Every day at 02:00 UTC: load what landed since the last run and rebuild the models.",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
