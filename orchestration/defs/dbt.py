"""dbt: every model as an asset, every dbt test as a check on it, built by one ``dbt build``.

The step runs dagster-dbt's stock ``DbtCliResource``: ``dbt build`` (models, snapshots and
data tests in dependency order; unit tests are left to CI and development, as dbt advises),
streamed as Dagster events, with each table's row count attached once dbt has finished (DuckDB
admits no second process while dbt writes).

How a run treats failures:

- A failing data test is an ERROR check result; dbt itself skips every model downstream of the
  tested node, so nothing is built on bad rows. The step goes on and succeeds, so the steps
  after it still run; `spm run` exits 1 and names the checks.
- The finance models are held back the same way, by dbt: they all depend on the gate models
  ``int_finance_suites_checked`` (the latest validation of every suite marked
  ``blocks_finance``) and ``int_plan_rule_violations`` (the sales-plan rules), whose tests fail
  when a blocking suite failed or a plan input breaks a rule. The finance marts then keep their
  last good content.
- A model that fails to build (an error, a contract violated) fails the step, naming the nodes.
"""

import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets

from core import settings
from orchestration.dbt_manifest import ensure_manifest
from orchestration.defs.ingestion import WAREHOUSE_POOL
from orchestration.resources import WarehouseResource, dbt_project

#: The job builds models and runs data tests, but not dbt's unit tests: their inputs are fixed
#: rows in YAML, so a production run learns nothing from them. CI runs them
#: (tests/orchestration/test_dbt_unit_tests.py), and `dbt test --select test_type:unit` by hand.
BUILD_ARGS = ["build", "--exclude-resource-type", "unit_test"]
#: Name of the dbt step.
DBT_STEP = "dbt_build"
#: The gate models every commission model depends on (docs/architecture.md, "The finance gate").
FINANCE_GATES = (
    dg.AssetKey(["intermediate", "int_finance_suites_checked"]),
    dg.AssetKey(["intermediate", "int_plan_rule_violations"]),
)


def test_description(props: Mapping[str, Any]) -> str:
    """What a dbt test checks, in a sentence: its own ``description`` when the YAML gives one,
    else one written from the generic test's name and arguments."""
    if props.get("description"):
        return str(props["description"])
    metadata = props.get("test_metadata") or {}
    name, kwargs = metadata.get("name"), metadata.get("kwargs") or {}
    column = kwargs.get("column_name")
    node = props.get("attached_node") or ""
    table = node.split(".")[-1] if node else "the table"
    if name == "primary_key":
        return f"`{column}` identifies each row of {table}: never null, never repeated."
    if name == "unique":
        return f"No two rows of {table} share `{column}`."
    if name == "not_null":
        return f"`{column}` is never null in {table}."
    if name == "accepted_values":
        values = ", ".join(str(value) for value in kwargs.get("values") or [])
        return f"`{column}` of {table} takes only the values: {values}."
    if name == "relationships":
        target = str(kwargs.get("to") or "").replace("ref(", "").replace("source(", "").strip("')\" ")
        return f"Every `{column}` of {table} is a `{kwargs.get('field')}` of {target}."
    if name:
        arguments = ", ".join(f"{key}={value}" for key, value in kwargs.items() if key != "model")
        return f"dbt test {name} on {table}" + (f" ({arguments})" if arguments else "") + "."
    return f"dbt data test {props.get('name')} (data-tests/{props.get('name')}.sql)."


class WarehouseDbtTranslator(DagsterDbtTranslator):
    """Keys follow the warehouse: ``<schema>/<relation>``, grouped by schema.

    Sources map to ``raw_crm/deals``, ``quality/suite_validations``, ``ledger/payout_lines``:
    the keys of the assets that write them (the dlt loads, the suites' step, the ledger), so the
    lineage runs from landing files to marts without a gap.
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

    def get_asset_check_spec(
        self, asset_spec: dg.AssetSpec, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> dg.AssetCheckSpec | None:
        """A dbt test as a check with a description; never a Dagster blocking check (dbt skips
        what is downstream of a failed test itself, and the step must still finish)."""
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None:
            return None
        return dg.AssetCheckSpec(
            name=spec.name,
            asset=spec.asset_key,
            description=test_description(self.get_resource_props(manifest, unique_id)),
            additional_deps=spec.additional_deps,
            metadata=spec.metadata,
            blocking=False,
        )


def translator() -> WarehouseDbtTranslator:
    """The project's translator, with dbt tests (source tests too) as asset checks."""
    return WarehouseDbtTranslator(
        settings=DagsterDbtTranslatorSettings(enable_asset_checks=True, enable_source_tests_as_checks=True)
    )


class DbtStepError(dg.Failure):
    """A dbt node failed to build (or dbt could not run at all)."""


def node_errors(run_results: Mapping[str, Any]) -> list[str]:
    """``unique_id: first line of the message`` of every node dbt ended with an error."""
    errors = []
    for result in run_results.get("results", []):
        if result.get("status") == "error":
            message = (result.get("message") or "error").strip().splitlines() or ["error"]
            errors.append(f"{result['unique_id']}: {message[0][:300]}")
    return errors


def invocation_folder(run_id: str, step: str = DBT_STEP) -> Path:
    """Where a run's dbt step writes its artifacts: ``<data>/dbt_runs/<run id>-<step>``."""
    return settings.dbt_runs_dir() / f"{run_id}-{step}"


def prune_invocation_folders(folder: Path, keep: int) -> list[Path]:
    """Delete all but the ``keep`` most recent invocation folders in ``folder``; return those deleted."""
    if not folder.is_dir():
        return []
    found = sorted((path for path in folder.iterdir() if path.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True)
    deleted = found[max(keep, 1) :]
    for path in deleted:
        shutil.rmtree(path, ignore_errors=True)
    return deleted


def remove_project_copy(used: Path, project_dir: Path) -> bool:
    """Delete ``used`` if it is a temporary copy of ``project_dir``; return whether it was.

    For a selection of more than 200 nodes that is not the whole project (every check without
    the models, in ``checks_job``), dagster-dbt copies the project into a new temporary folder to
    write a selector there, runs dbt in the copy and leaves it behind.
    """
    used, project_dir = Path(used).resolve(), Path(project_dir).resolve()
    temporary = Path(tempfile.gettempdir()).resolve()
    if used == project_dir or used.parent != temporary or not (used / "dbt_project.yml").exists():
        return False
    shutil.rmtree(used, ignore_errors=True)
    return True


def with_row_counts(events: list[Any], warehouse: Path, manifest: Mapping[str, Any]) -> Iterator[Any]:
    """``events`` with ``dagster/row_count`` on each table's materialization, counted in one query
    once dbt has finished (views are not counted: that would run their query)."""
    relations: dict[int, str] = {}
    for index, event in enumerate(events):
        if isinstance(event, dg.Output | dg.AssetMaterialization):
            unique_id = getattr((event.metadata or {}).get("unique_id"), "value", None)
            node = manifest["nodes"].get(unique_id or "", {})
            if node.get("config", {}).get("materialized") in {"table", "incremental", "snapshot", "seed"}:
                # schema and name only: the manifest's database is the warehouse it was parsed for
                relations[index] = f'"{node["schema"]}"."{node.get("alias") or node["name"]}"'
    counts: dict[int, int] = {}
    if relations:
        query = " union all ".join(f"select {index}, count(*) from {name}" for index, name in relations.items())
        try:
            with duckdb.connect(str(warehouse)) as connection:
                counts = dict(connection.execute(query).fetchall())
        except duckdb.Error:  # a table dbt did not leave behind: the events go without counts
            counts = {}
    for index, event in enumerate(events):
        if index in counts:
            event = event.with_metadata({**event.metadata, "dagster/row_count": dg.MetadataValue.int(counts[index])})
        yield event


def build_dbt_assets(project: DbtProject) -> dg.AssetsDefinition:
    """Every dbt model, seed and snapshot of the project, built and tested by one ``dbt build``."""

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        dagster_dbt_translator=translator(),
        name=DBT_STEP,
        pool=WAREHOUSE_POOL,
    )
    def dbt_build(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource) -> Iterator:
        target = invocation_folder(context.run.run_id, context.op_execution_context.op.name)
        # dbt's parse state for this warehouse: waits for a parse `spm run` started in the
        # background, or parses when the run's warehouse is not the one last parsed for
        ensure_manifest(warehouse.path)
        with warehouse.writing(context), warehouse.dbt_environment():
            invocation = dbt.cli(BUILD_ARGS, context=context, raise_on_error=False, target_path=target)
            try:
                # DuckDB admits no reader beside dbt's writer: the events wait for dbt to finish,
                # then each table's rows are counted, as dagster-dbt's fetch_row_counts does.
                events = list(invocation.stream())
            finally:
                remove_project_copy(invocation.project_dir, Path(project.project_dir))
            yield from with_row_counts(events, warehouse.path, invocation.manifest)
        prune_invocation_folders(settings.dbt_runs_dir(), settings.dbt_invocations_kept())
        results = target / "run_results.json"
        if not results.exists():
            raise DbtStepError(
                description=f"dbt did not run (exit code {invocation.process.returncode}): "
                + str(invocation.get_error() or "see the run's log").strip()[:2000]
            )
        errors = node_errors(invocation.get_artifact("run_results.json"))
        if errors:
            raise DbtStepError(
                description=f"{len(errors)} dbt node(s) failed with an error: " + "; ".join(errors[:5]),
                metadata={"dbt_invocation": str(target)},
            )

    return dbt_build


def definitions() -> dg.Definitions:
    """The dbt assets of the project (its manifest must be prepared)."""
    return dg.Definitions(assets=[build_dbt_assets(dbt_project())])
