"""dbt models as Dagster assets and dbt tests as asset checks.

Two steps: every model but the finance ones (``dbt_models``), then the finance models
(``dbt_finance``, dbt tag ``finance``). Between them run the data-quality suites; those that
guard finance are blocking checks on staging assets the finance step depends on, so a
critical failure skips the finance step and the finance marts keep their last good content,
while the sales and people marts are already rebuilt from the clean, staged rows.
"""

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets

from orchestration.assets.ingestion import WAREHOUSE_POOL
from orchestration.resources import WarehouseResource, dbt_project

FINANCE_SELECTION = "tag:finance"
#: The finance model every commission model depends on: the step's gate.
FINANCE_GATE_MODEL = "int_plan_rule_violations"


class WarehouseDbtTranslator(DagsterDbtTranslator):
    """Keys follow the warehouse: ``<schema>/<relation>``.

    Sources map to ``raw_crm/deals`` etc., the keys of the dlt assets that load them, so the
    lineage runs from landing files to marts without a gap; models group by layer. The finance
    gate model also depends on the staging assets whose quality suites guard finance.
    """

    def __init__(self, finance_guards: Sequence[dg.AssetKey] = (), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.finance_guards = tuple(finance_guards)

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None) -> dg.AssetSpec:
        """Key and group of one dbt node (and the quality guards of the finance gate)."""
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] == "source":
            return spec.replace_attributes(key=dg.AssetKey([props["schema"], props["name"]]))
        spec = spec.replace_attributes(
            key=dg.AssetKey([props["schema"], props["alias"] or props["name"]]), group_name=props["schema"]
        )
        if props["name"] == FINANCE_GATE_MODEL and self.finance_guards:
            known = {dep.asset_key for dep in spec.deps}
            spec = spec.replace_attributes(
                deps=[*spec.deps, *(dg.AssetDep(key) for key in self.finance_guards if key not in known)]
            )
        return spec


def translator(finance_guards: Sequence[dg.AssetKey] = ()) -> WarehouseDbtTranslator:
    """The project's translator; ``finance_guards`` are the staging assets gating finance."""
    return WarehouseDbtTranslator(
        finance_guards=finance_guards,
        settings=DagsterDbtTranslatorSettings(enable_asset_checks=True, enable_source_tests_as_checks=True),
    )


def build_dbt_assets(finance_guards: Sequence[dg.AssetKey] = ()) -> list[dg.AssetsDefinition]:
    """The non-finance models and the finance models, each built with ``dbt build`` (models, then tests)."""
    project = dbt_project()
    dagster_dbt_translator = translator(finance_guards)

    def dbt_step(name: str, **selection: str) -> dg.AssetsDefinition:
        @dbt_assets(
            manifest=project.manifest_path,
            project=project,
            dagster_dbt_translator=dagster_dbt_translator,
            name=name,
            pool=WAREHOUSE_POOL,
            **selection,
        )
        def _step(context: AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource) -> Iterator:
            with warehouse.writing(context), warehouse.dbt_environment():
                yield from dbt.cli(["build"], context=context).stream()

        return _step

    return [dbt_step("dbt_models", exclude=FINANCE_SELECTION), dbt_step("dbt_finance", select=FINANCE_SELECTION)]
