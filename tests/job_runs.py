"""Running the project's jobs in tests as `spm` runs them: in-process, on an ephemeral instance."""

from __future__ import annotations

from pathlib import Path

import dagster as dg


def run_warehouse_job(
    landing: Path, warehouse: Path, instance: dg.DagsterInstance | None = None
) -> dg.ExecuteInProcessResult:
    """warehouse_job on ``landing`` into ``warehouse``, then (when it succeeded) publish_job, as
    `spm run` and the ``publish_after_success`` sensor do; the warehouse run's failures are in
    the result, not raised. A failed publish fails the test."""
    from orchestration.definitions import build_definitions

    definitions = build_definitions(warehouse, landing)
    instance = instance or dg.DagsterInstance.ephemeral()
    result = definitions.resolve_job_def("warehouse_job").execute_in_process(instance=instance, raise_on_error=False)
    if result.success:
        publish(definitions, instance, result.run_id)
    return result


def publish(definitions: dg.Definitions, instance: dg.DagsterInstance, validated_by_run: str) -> None:
    """publish_job after the run ``validated_by_run``; raises when it fails."""
    config = {"ops": {"publish": {"config": {"validated_by_run": validated_by_run}}}}
    definitions.resolve_job_def("publish_job").execute_in_process(run_config=config, instance=instance)


def run_checks_job(warehouse: Path) -> dg.ExecuteInProcessResult:
    """checks_job on ``warehouse`` (every check, nothing built); failures are in the result."""
    from orchestration.definitions import build_definitions

    return (
        build_definitions(warehouse=warehouse)
        .resolve_job_def("checks_job")
        .execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    )


def run_close_job(
    warehouse: Path, period: str, action: str = "close", reason: str = "", acted_by: str = "test", through: str = ""
) -> dg.ExecuteInProcessResult:
    """close_period_job (the ledger step, then the models the ledger feeds) on ``warehouse``; with
    ``through``, every open period up to it."""
    from orchestration.definitions import build_definitions

    config = {"action": action, "period": period, "acted_by": acted_by, "reason": reason, "through": through}
    definitions, instance = build_definitions(warehouse=warehouse), dg.DagsterInstance.ephemeral()
    result = definitions.resolve_job_def("close_period_job").execute_in_process(
        run_config={"ops": {"ledger": {"config": config}}}, instance=instance, raise_on_error=False
    )
    if result.success:
        publish(definitions, instance, result.run_id)
    return result


def summarise_run(result: dg.ExecuteInProcessResult, warehouse: Path, landing: Path | None = None):
    """The summary `spm run` prints for ``result`` (models not rebuilt, finance held back)."""
    from orchestration.definitions import build_definitions
    from orchestration.defs.schedules import WAREHOUSE_SELECTION
    from spm.run_summary import summarise

    graph = build_definitions(warehouse, landing).resolve_asset_graph()
    return summarise(result, 0.0, graph, WAREHOUSE_SELECTION.resolve(graph))


def check_outcomes(result: dg.ExecuteInProcessResult) -> dict[str, bool]:
    """Whether each asset check of a run passed, by check name."""
    return {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
