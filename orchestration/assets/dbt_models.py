"""dbt models as Dagster assets and dbt tests as asset checks."""

from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets

from orchestration.assets.ingestion import WAREHOUSE_POOL
from orchestration.resources import WarehouseResource, dbt_project


class WarehouseDbtTranslator(DagsterDbtTranslator):
    """Keys follow the warehouse: ``<schema>/<relation>``.

    Sources map to ``raw_crm/deals`` etc., the keys of the dlt assets that load them, so the
    lineage runs from landing files to marts without a gap; models group by layer.
    """

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None) -> dg.AssetSpec:
        """Key and group of one dbt node."""
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] == "source":
            return spec.replace_attributes(key=dg.AssetKey([props["schema"], props["name"]]))
        return spec.replace_attributes(
            key=dg.AssetKey([props["schema"], props["alias"] or props["name"]]), group_name=props["schema"]
        )


TRANSLATOR = WarehouseDbtTranslator(
    settings=DagsterDbtTranslatorSettings(enable_asset_checks=True, enable_source_tests_as_checks=True)
)


def build_dbt_assets() -> dg.AssetsDefinition:
    """All models of the project, built with ``dbt build`` (models, then their tests)."""
    project = dbt_project()

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        dagster_dbt_translator=TRANSLATOR,
        name="dbt_models",
        pool=WAREHOUSE_POOL,
    )
    def _dbt_models(context: AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource) -> Iterator:
        with warehouse.writing(context), warehouse.dbt_environment():
            yield from dbt.cli(["build"], context=context).stream()

    return _dbt_models
