"""Serving: the validated, BI-facing tables published to the serving database after each run.

The ``publish`` asset (``serving/database``) depends on every model of the published schemas
(``marts``, ``rejects``) and the suites' tables (``quality``). It runs in a run of its own,
``publish_job``, right after every successful ``warehouse_job`` and ``close_period_job``: `spm`
starts it itself, and the ``publish_after_success`` sensor does for runs launched from the UI
or a schedule (see ``schedules.py``). It is not a step of those jobs because Dagster skips a
step when an upstream asset of the same run is not materialized, and a run that holds finance
back leaves some dbt models unbuilt: exactly the run whose (unchanged) finance marts must still
be published. It copies the tables into the serving file BI tools open (``serving.publish``),
optionally also as Parquet files, and records the rows it published. A table whose dbt test
failed in the validating run keeps its previous copy.
"""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import Field

from core import settings
from orchestration.dbt_manifest import parsed_manifest
from orchestration.defs.dbt import invocation_folder
from orchestration.defs.ingestion import WAREHOUSE_POOL
from orchestration.defs.quality import CATALOG_KEY, VALIDATIONS_KEY
from orchestration.resources import WarehouseResource
from serving.held_back import unvalidated_tables_of
from serving.parquet import export_parquet
from serving.publish import PUBLISHED_SCHEMAS, PublishError, publish

SERVING_KEY = dg.AssetKey(["serving", "database"])
#: Name of the publish step.
PUBLISH_STEP = "publish"


class PublishConfig(dg.Config):
    """Where the serving copy goes and what it holds."""

    serving_path: str = Field(
        default="", description="The serving DuckDB file; empty: SPM_SERVING, else serving.duckdb beside the warehouse."
    )
    publish_survey_answers: bool = Field(
        default=False,
        description="Also publish marts.fct_survey_responses (one row per answer, pseudonymised respondent). "
        "SPM_PUBLISH_SURVEY_ANSWERS=true sets it too.",
    )
    validated_by_run: str = Field(
        default="",
        description="The run (warehouse_job or close_period_job) this publish follows: a table one of its dbt "
        "tests failed on keeps its previous copy. Empty: the warehouse as it stands.",
    )
    parquet_dir: str = Field(
        default="",
        description="Also write every published table as <dir>/<schema>/<table>.parquet; empty: "
        "SPM_PUBLISH_PARQUET_DIR, else no Parquet.",
    )


def published_model_keys(manifest: Mapping[str, Any]) -> list[dg.AssetKey]:
    """Asset keys of the dbt models the publish copies (schemas ``marts`` and ``rejects``)."""
    return sorted(
        {
            dg.AssetKey([node["schema"], node.get("alias") or node["name"]])
            for node in manifest["nodes"].values()
            if node["resource_type"] == "model" and node["schema"] in PUBLISHED_SCHEMAS
        },
        key=lambda key: key.to_user_string(),
    )


def build_publish_asset(manifest_path: Path) -> dg.AssetsDefinition:
    """The publish asset, depending on every published model of the manifest."""
    deps = [*published_model_keys(parsed_manifest(Path(manifest_path))), VALIDATIONS_KEY, CATALOG_KEY]

    @dg.multi_asset(
        specs=[
            dg.AssetSpec(
                SERVING_KEY,
                deps=deps,
                group_name="serving",
                kinds={"duckdb"},
                description="The serving database BI tools, finance and people teams open (DuckDB 1.1 or later): "
                "the marts, rejects and quality tables as this run validated them, swapped in atomically. Survey "
                "answers one by one, rejected HRIS and survey rows are never in it (survey answers only if "
                "configured).",
            )
        ],
        name=PUBLISH_STEP,
        pool=WAREHOUSE_POOL,
        description="Publish the validated BI-facing tables to the serving database (and Parquet, if configured).",
    )
    def publish_step(
        context: dg.AssetExecutionContext, config: PublishConfig, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        serving = Path(config.serving_path).resolve() if config.serving_path else settings.serving_path(warehouse.path)
        validating = config.validated_by_run
        held = unvalidated_tables_of(invocation_folder(validating)) if validating else set()
        if held:
            context.log.warning(f"not validated by this run, previous copy kept: {', '.join(sorted(held))}")
        try:
            with warehouse.writing(context):  # no writer changes the warehouse while it is copied
                publication = publish(
                    warehouse.path,
                    serving,
                    survey_answers=config.publish_survey_answers or settings.publish_survey_answers(),
                    held_back=held,
                    run_id=validating or context.run.run_id,
                )
        except PublishError as error:
            raise dg.Failure(description=str(error)) from None
        metadata: dict[str, Any] = {
            "path": dg.MetadataValue.path(str(serving)),
            "tables": len(publication.tables),
            "seconds": round(publication.seconds, 2),
            "size_mib": round(publication.bytes / 2**20, 1),
            "rows_per_table": dg.MetadataValue.json({t.qualified: t.rows for t in publication.tables}),
            "kept_from_previous": dg.MetadataValue.json(
                [t.qualified for t in publication.tables if t.origin != "this publish"]
            ),
            "withheld": dg.MetadataValue.json(publication.withheld),
            "dagster/row_count": dg.MetadataValue.int(publication.rows),
        }
        parquet = Path(config.parquet_dir).resolve() if config.parquet_dir else settings.publish_parquet_dir()
        if parquet is not None:
            try:
                files = export_parquet(serving, parquet)
            except PublishError as error:
                raise dg.Failure(description=str(error)) from None
            metadata["parquet_dir"] = dg.MetadataValue.path(str(parquet))
            metadata["parquet_files"] = len(files)
        context.log.info(
            f"published {len(publication.tables)} tables, {publication.rows:,} rows to {serving} "
            f"in {publication.seconds:.1f} s"
        )
        return dg.MaterializeResult(metadata=metadata)

    return publish_step


def definitions(manifest_path: Path) -> dg.Definitions:
    """The publish asset (its job, ``publish_job``, is in ``schedules.py`` with the others)."""
    return dg.Definitions(assets=[build_publish_asset(manifest_path)])
