"""Run warehouse_job once in this process and write what each step took as JSON.

Started by run.py as a child process, so that its memory (and dbt's, its child) is measured
apart from the benchmark's own and from generation.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from spm.process_exit import exit_process


def main(landing: str, warehouse: str, out: str) -> int:
    """Execute the job on ``landing`` into ``warehouse``; write step timings and rows to ``out``."""
    from orchestration.dbt_warm_process import start_early

    start_early(Path(warehouse))  # as `spm run` does, before Dagster is imported
    import dagster as dg

    from orchestration.build import build_definitions
    from orchestration.dbt_manifest import ensure_manifest
    from spm.run_summary import summarise

    ensure_manifest()
    started = time.monotonic()
    instance = dg.DagsterInstance.ephemeral()
    result = (
        build_definitions(Path(warehouse), Path(landing))
        .resolve_job_def("warehouse_job")
        .execute_in_process(
            run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}},
            instance=instance,
            raise_on_error=False,
        )
    )
    wall = time.monotonic() - started
    summary = summarise(result, started)
    steps: dict[str, dict[str, float]] = {}
    for record in instance.all_logs(result.run_id):
        event = record.dagster_event
        if event is None or event.step_key is None:
            continue
        entry = steps.setdefault(event.step_key, {})
        if event.event_type_value == "STEP_START":
            entry["start"] = record.timestamp
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
            entry["end"] = record.timestamp
    Path(out).write_text(
        json.dumps(
            {
                "success": result.success,
                "wall_s": wall,
                "steps_s": {k: v["end"] - v["start"] for k, v in steps.items() if "start" in v and "end" in v},
                # epoch seconds, for the benchmark's memory peak per step
                "steps_window": {k: [v["start"], v["end"]] for k, v in steps.items() if "start" in v and "end" in v},
                "rows_loaded": summary.rows_loaded,
                "checks_passed": summary.checks_passed,
                "checks_failed": summary.checks_failed,
                "errors": summary.errors,
            },
            indent=2,
        )
    )
    return 0 if result.success else 1


if __name__ == "__main__":
    exit_process(main(*sys.argv[1:4]))
