"""dbt models as Dagster assets and dbt tests as asset checks.

Two steps: every model but the finance ones (``dbt_models``), then the finance models
(``dbt_finance``, dbt tag ``finance``). Between them run the data-quality suites.

- A failing dbt test in ``dbt_models`` is an ERROR check result but does not fail the step (dbt
  itself skips the models downstream of it): the suites and freshness checks still run and say
  what is wrong. A model that errors fails the step.
- The finance step is held back, keeping the finance marts' last good content, when a blocking
  suite fails (Dagster skips it: those suites are blocking checks on staging assets the finance
  gate model depends on) or when a dbt test or suite failed with ERROR in this run on any asset
  the finance models are built from (the step refuses to build, naming the checks).
"""

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext, DagsterEventType
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets

from orchestration.assets.ingestion import WAREHOUSE_POOL
from orchestration.assets.quality_checks import SUITES_STEP
from orchestration.dbt_invocation import dbt_build
from orchestration.dbt_manifest import parsed_manifest
from orchestration.resources import WarehouseResource, dbt_project
from spm.quality.preload import preload_gx

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

    def get_asset_check_spec(
        self, asset_spec: dg.AssetSpec, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> dg.AssetCheckSpec | None:
        """dbt tests as checks that do not fail their step: the finance gate reads their results."""
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None or not spec.blocking:
            return spec
        return dg.AssetCheckSpec(
            name=spec.name,
            asset=spec.asset_key,
            description=spec.description,
            additional_deps=spec.additional_deps,
            metadata=spec.metadata,
            blocking=False,
        )


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
    finance_upstream = upstream_of_finance(project, dagster_dbt_translator) | set(finance_guards)

    common: dict[str, Any] = {
        "manifest": parsed_manifest(Path(project.manifest_path)),
        "project": project,
        "dagster_dbt_translator": dagster_dbt_translator,
        "pool": WAREHOUSE_POOL,
    }

    @dbt_assets(name="dbt_models", exclude=FINANCE_SELECTION, **common)
    def dbt_models(context: AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource) -> Iterator:
        if suites_run_later(context):
            preload_gx()  # while dbt works in its own process (spm/quality/preload.py)
        with warehouse.writing(context), warehouse.dbt_environment():
            invocation = yield from dbt_build(dbt, context, warehouse.path, raise_on_error=False)
        errors = [r for r in invocation.get_artifact("run_results.json")["results"] if r["status"] == "error"]
        if errors:
            raise dg.Failure(
                description=f"{len(errors)} dbt node(s) failed with an error: "
                + "; ".join(f"{r['unique_id']}: {(r.get('message') or '').splitlines()[0][:200]}" for r in errors[:5])
            )

    @dbt_assets(name="dbt_finance", select=FINANCE_SELECTION, **common)
    def dbt_finance(context: AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource) -> Iterator:
        # Only a build is gated; a check-only run (checks_job) still runs the finance tests.
        failed = failed_checks_upstream(context, finance_upstream) if context.selected_asset_keys else []
        if failed:
            raise dg.Failure(description=f"{FINANCE_HELD_BACK}: {', '.join(failed[:10])}")
        with warehouse.writing(context), warehouse.dbt_environment():
            yield from dbt_build(dbt, context, warehouse.path)

    return [dbt_models, dbt_finance]


def suites_run_later(context: AssetExecutionContext) -> bool:
    """Whether this run executes the quality suites' step (every step when none are listed)."""
    steps = context.run.step_keys_to_execute
    return steps is None or SUITES_STEP in steps


#: Start of the failure message of a finance step that refused to build.
FINANCE_HELD_BACK = "Finance models held back by failed checks upstream"


def upstream_of_finance(project: DbtProject, dagster_dbt_translator: DagsterDbtTranslator) -> set[dg.AssetKey]:
    """Asset keys of every model and source the finance models are built from (not finance ones)."""
    manifest = parsed_manifest(Path(project.manifest_path))
    finance = {
        uid for uid, node in manifest["nodes"].items() if node["resource_type"] == "model" and "finance" in node["tags"]
    }
    seen: set[str] = set()
    pending = list(finance)
    while pending:
        for parent in manifest["parent_map"].get(pending.pop(), []):
            if parent not in seen:
                seen.add(parent)
                pending.append(parent)
    return {
        dagster_dbt_translator.get_asset_spec(manifest, uid, project).key
        for uid in seen - finance
        if uid.split(".")[0] in {"model", "source", "seed", "snapshot"}
    }


def failed_checks_upstream(context: AssetExecutionContext, upstream: set[dg.AssetKey]) -> list[str]:
    """Checks that failed with ERROR earlier in this run on one of the ``upstream`` assets.

    Source freshness is left out: stale data is late, not wrong, and the close must still run.
    """
    records = context.instance.get_records_for_run(
        context.run.run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION
    ).records
    failed = []
    for record in records:
        evaluation = record.event_log_entry.dagster_event.asset_check_evaluation_data
        if (
            not evaluation.passed
            and evaluation.severity == dg.AssetCheckSeverity.ERROR
            and evaluation.asset_key in upstream
            and evaluation.check_name != "source_freshness"
        ):
            failed.append(f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}")
    return sorted(set(failed))
