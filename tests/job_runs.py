"""Running warehouse_job in tests, as `spm run` does: in-process, on an ephemeral instance."""

from __future__ import annotations

from pathlib import Path

import dagster as dg


def run_warehouse_job(
    landing: Path, warehouse: Path, instance: dg.DagsterInstance | None = None
) -> dg.ExecuteInProcessResult:
    """warehouse_job on ``landing`` into ``warehouse``; failures are in the result, not raised."""
    from orchestration.build import build_definitions

    return (
        build_definitions(warehouse, landing)
        .resolve_job_def("warehouse_job")
        .execute_in_process(instance=instance or dg.DagsterInstance.ephemeral(), raise_on_error=False)
    )


def run_checks_job(warehouse: Path) -> dg.ExecuteInProcessResult:
    """checks_job on ``warehouse`` (every check, nothing built); failures are in the result."""
    from orchestration.build import build_definitions

    return (
        build_definitions(warehouse=warehouse)
        .resolve_job_def("checks_job")
        .execute_in_process(
            run_config={"resources": {"warehouse": {"config": {"warehouse_path": str(warehouse), "landing_dir": ""}}}},
            instance=dg.DagsterInstance.ephemeral(),
            raise_on_error=False,
        )
    )


def check_outcomes(result: dg.ExecuteInProcessResult) -> dict[str, bool]:
    """Whether each asset check of a run passed, by check name."""
    return {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
