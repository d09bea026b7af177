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
