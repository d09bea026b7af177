"""Ingestion: the landing folder's entities and the dlt loads into the raw tables.

Each landing entity folder is an external asset (where the lineage starts); each source is one
dlt multi-asset (``load_crm``, ``load_hris``, ``load_surveys``, ``load_plans``) with one asset
per raw table, keyed ``<raw dataset>/<table>`` as the dbt sources are, so the lineage runs from
landing files to marts without a gap. Every materialization carries the rows this load wrote
(``rows_loaded``, dlt's count) and the rows the table holds after it (``dagster/row_count``).
"""

import tempfile
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import dlt
from dagster_dlt import DagsterDltResource, DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData

from ingestion.interrupted_loads import finish_interrupted_load
from ingestion.landing import LAYOUT
from ingestion.pipelines import RAW_DATASETS, landing_entities, make_source
from orchestration.resources import WarehouseResource

#: Every asset that writes the warehouse runs in this pool, so a deployment can limit them to one
#: step at a time across runs (DuckDB admits one writing process per file).
WAREHOUSE_POOL = "warehouse"


def landing_key(system: str, entity: str) -> dg.AssetKey:
    """Asset key of one landing entity folder, e.g. ``landing/crm/deals``."""
    return dg.AssetKey(["landing", system, entity])


def landing_specs() -> list[dg.AssetSpec]:
    """One external asset per entity folder of the landing layout."""
    return [
        dg.AssetSpec(
            key=landing_key(system, entity),
            description=f"Landing files `{system}/{entity}/*.{extension}` (docs/landing_format.md), "
            "or the same records from the live API.",
            group_name="landing",
            kinds={"file"},
        )
        for system, entities in LAYOUT.items()
        for entity, extension in entities.items()
    ]


class RawTableTranslator(DagsterDltTranslator):
    """Raw tables are keyed ``<raw dataset>/<table>`` (as dbt sources are), fed by their landing entity."""

    def __init__(self, source_name: str) -> None:
        self.source_name = source_name

    def get_asset_spec(self, data: DltResourceTranslatorData) -> dg.AssetSpec:
        """Key, group and upstream landing entity of one raw table."""
        table = data.resource.name
        dataset = RAW_DATASETS[self.source_name]
        return (
            super()
            .get_asset_spec(data)
            .replace_attributes(
                key=dg.AssetKey([dataset, table]),
                group_name=dataset,
                deps=[landing_key(self.source_name, entity) for entity in landing_entities(self.source_name, table)],
                description=f"Raw `{dataset}.{table}` loaded by dlt.",
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


def with_row_count(event: dg.MaterializeResult, pipeline: dlt.Pipeline) -> dg.MaterializeResult:
    """``event`` with the number of rows its raw table holds now (``dagster/row_count``)."""
    dataset, table = event.asset_key.path[-2:]
    with pipeline.sql_client() as client:
        exists = client.execute_sql(
            "select count(*) from information_schema.tables where table_schema = %s and table_name = %s",
            dataset,
            table,
        )[0][0]
        rows = (
            client.execute_sql(f"select count(*) from {client.make_qualified_table_name(table)}")[0][0] if exists else 0
        )
    metadata = {**(event.metadata or {}), "dagster/row_count": dg.MetadataValue.int(int(rows))}
    return dg.MaterializeResult(asset_key=event.asset_key, metadata=metadata)


def build_source_assets(source_name: str) -> dg.AssetsDefinition:
    """The multi-asset that loads one source into its raw dataset."""

    @dlt_assets(
        dlt_source=make_source(source_name, Path(tempfile.gettempdir()) / "spm_landing_placeholder"),
        dlt_pipeline=_spec_pipeline(source_name),
        name=f"load_{source_name}",
        dagster_dlt_translator=RawTableTranslator(source_name),
        pool=WAREHOUSE_POOL,
    )
    def _load(context: dg.AssetExecutionContext, dlt: DagsterDltResource, warehouse: WarehouseResource) -> Iterator:
        with warehouse.writing(context), warehouse.loading(source_name) as pipeline:
            finished = finish_interrupted_load(pipeline)
            if finished:
                context.log.warning(
                    f"finished load packages an interrupted run left (rows written twice removed): {finished}"
                )
            for event in dlt.run(context=context, dlt_source=warehouse.source(source_name), dlt_pipeline=pipeline):
                yield with_row_count(event, pipeline)

    return _load


def definitions() -> dg.Definitions:
    """The landing entities and one loading multi-asset per source."""
    return dg.Definitions(
        assets=[*landing_specs(), *(build_source_assets(name) for name in RAW_DATASETS)],
    )
