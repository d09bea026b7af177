"""Building the Dagster definitions for a warehouse and landing folder."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from dagster_dlt import DagsterDltResource

from orchestration.assets.dbt_models import build_dbt_assets
from orchestration.assets.ingestion import ingestion_assets
from orchestration.assets.landing import landing_specs
from orchestration.assets.quality_checks import build_freshness_checks, build_suite_checks, finance_guards
from orchestration.jobs import checks_job, daily_schedule, warehouse_job
from orchestration.period_close import close_period_job, monthly_close
from orchestration.resources import WarehouseResource, dbt_project, dbt_resource
from spm import settings


def build_definitions(warehouse: Path | None = None, landing: Path | None = None) -> dg.Definitions:
    """All assets, checks, jobs, schedules and resources, for a warehouse and landing folder.

    Paths default to ``spm.settings``; a run can still override them through the
    ``warehouse`` resource's run config.
    """
    return dg.Definitions(
        assets=[*landing_specs(), *ingestion_assets(), *build_dbt_assets(finance_guards())],
        asset_checks=[build_suite_checks(), build_freshness_checks(dbt_project().manifest_path)],
        jobs=[warehouse_job, checks_job, close_period_job],
        schedules=[daily_schedule, monthly_close],
        resources={
            "dlt": DagsterDltResource(),
            "dbt": dbt_resource(warehouse or settings.warehouse_path()),
            "warehouse": WarehouseResource(
                warehouse_path=str(warehouse or settings.warehouse_path()),
                landing_dir=str(landing or settings.landing_dir()),
            ),
        },
    )
