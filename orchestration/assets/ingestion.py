"""dlt loads as Dagster assets: one multi-asset per source, one asset per raw table."""

import tempfile
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import dlt
from dagster import AssetExecutionContext
from dagster_dlt import DagsterDltResource, DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData

from ingestion.interrupted_loads import finish_interrupted_load
from ingestion.pipelines import RAW_DATASETS, landing_entity, make_source
from orchestration.assets.landing import landing_key
from orchestration.resources import WarehouseResource

#: Every asset that writes the warehouse runs in this pool (limit 1 in dagster.yaml).
WAREHOUSE_POOL = "warehouse"


class RawTableTranslator(DagsterDltTranslator):
    """Raw tables are keyed ``<raw dataset>/<table>`` (as dbt sources are), fed by their landing entity."""

    def __init__(self, source_name: str) -> None:
        self.source_name = source_name

    def get_asset_spec(self, data: DltResourceTranslatorData) -> dg.AssetSpec:
        """Key, group and upstream landing entity of one raw table."""
        table = data.resource.name
        return (
            super()
            .get_asset_spec(data)
            .replace_attributes(
                key=dg.AssetKey([RAW_DATASETS[self.source_name], table]),
                group_name=RAW_DATASETS[self.source_name],
                deps=[landing_key(self.source_name, landing_entity(self.source_name, table))],
                description=f"Raw `{RAW_DATASETS[self.source_name]}.{table}` loaded by dlt.",
            )
        )


def _spec_pipeline(source_name: str) -> dlt.Pipeline:
    """A pipeline used only to describe the assets; runs use the warehouse resource's pipeline."""
    scratch = Path(tempfile.gettempdir()) / "spm_dlt_specs"
    return dlt.pipeline(
        pipeline_name=f"spm_{source_name}",
        destination=dlt.destinations.duckdb(str(scratch / "spec.duckdb")),
        dataset_name=RAW_DATASETS[source_name],
        pipelines_dir=str(scratch / "pipelines"),
    )


def build_source_assets(source_name: str) -> dg.AssetsDefinition:
    """The multi-asset that loads one source into its raw dataset."""

    @dlt_assets(
        dlt_source=make_source(source_name, Path(tempfile.gettempdir()) / "spm_landing_placeholder"),
        dlt_pipeline=_spec_pipeline(source_name),
        name=f"load_{source_name}",
        dagster_dlt_translator=RawTableTranslator(source_name),
        pool=WAREHOUSE_POOL,
    )
    def _load(context: AssetExecutionContext, dlt: DagsterDltResource, warehouse: WarehouseResource) -> Iterator:
        with warehouse.writing(context), warehouse.loading(source_name) as pipeline:
            finished = finish_interrupted_load(pipeline)
            if finished:
                context.log.warning(
                    f"finished load packages an interrupted run left (rows written twice removed): {finished}"
                )
            yield from dlt.run(context=context, dlt_source=warehouse.source(source_name), dlt_pipeline=pipeline)

    return _load


def ingestion_assets() -> list[dg.AssetsDefinition]:
    """One loading multi-asset per source."""
    return [build_source_assets(name) for name in RAW_DATASETS]
