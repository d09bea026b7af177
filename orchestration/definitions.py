"""The single entry point Dagster loads (``dagster dev -m orchestration.definitions``).

The definitions are built when Dagster loads them, not when this module is imported: building
needs the dbt manifest, which :func:`orchestration.dbt_manifest.ensure_manifest` prepares (a
``dbt parse`` when the project changed, or was parsed for another warehouse).
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from dagster_dlt import DagsterDltResource

from core import settings
from orchestration.dbt_manifest import ensure_manifest
from orchestration.defs import dbt, finance, ingestion, quality, reporting, schedules, serving
from orchestration.resources import WarehouseResource, dbt_project, dbt_resource


def build_definitions(warehouse: Path | None = None, landing: Path | None = None, live: bool = False) -> dg.Definitions:
    """Every asset, check, job, schedule and resource, for a warehouse and a landing folder
    (``live``: the live APIs instead of a landing folder).

    Paths default to ``core.settings`` (``SPM_WAREHOUSE``, ``SPM_LANDING``); a run can still
    override them through the ``warehouse`` resource's run config. The dbt manifest must be
    prepared (:func:`ensure_manifest`).
    """
    return dg.Definitions.merge(
        ingestion.definitions(),
        quality.definitions(dbt_project().manifest_path),
        dbt.definitions(),
        finance.definitions(),
        serving.definitions(dbt_project().manifest_path),
        reporting.definitions(),
        schedules.definitions(),
        dg.Definitions(
            resources={
                "dlt": DagsterDltResource(),
                "dbt": dbt_resource(),
                "warehouse": WarehouseResource(
                    warehouse_path=str(warehouse or settings.warehouse_path()),
                    landing_dir="" if live else str(landing or settings.landing_dir()),
                ),
            }
        ),
    )


@dg.definitions
def defs() -> dg.Definitions:
    """What `dagster dev` and `spm ui` load: the project's definitions for the configured
    warehouse and landing folder, the manifest prepared first."""
    ensure_manifest(settings.warehouse_path())
    return build_definitions()
