"""Runs that `spm` starts are recorded in the persistent Dagster instance; a run whose process was
killed is marked failed by the next command, and the next run works."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from tests.tiny_landing import write_tiny_landing

BIN = Path(sys.executable).parent


def test_a_killed_run_is_marked_failed_and_the_next_run_completes(
    dbt_manifest: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from spm.job_runner import dagster_instance, fail_abandoned_runs

    data = tmp_path / "data"
    landing = write_tiny_landing(tmp_path / "landing")
    env = {**os.environ, "SPM_DATA_DIR": str(data)}
    env.pop("DAGSTER_HOME", None)
    command = [str(BIN / "spm"), "run", "--landing", str(landing), "--quiet"]
    monkeypatch.setenv("SPM_DATA_DIR", str(data))
    instance = dagster_instance()  # the same home as the runs' (data/dagster_home)

    first = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 600
    killed: dg.DagsterRun | None = None
    while killed is None and time.monotonic() < deadline and first.poll() is None:
        for run in instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED])):
            steps = instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.STEP_START).records
            if any(record.event_log_entry.step_key == "dbt_build" for record in steps):
                killed = run
        time.sleep(0.2)
    assert killed is not None, "the run never reached its dbt step"
    os.killpg(first.pid, signal.SIGKILL)  # the process and its child dbt, mid-build
    first.wait(60)
    assert instance.get_run_by_id(killed.run_id).status == dg.DagsterRunStatus.STARTED  # nobody said otherwise

    assert fail_abandoned_runs(instance) == [killed.run_id]
    assert instance.get_run_by_id(killed.run_id).status == dg.DagsterRunStatus.FAILURE
    assert fail_abandoned_runs(instance) == []

    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1200)
    assert second.returncode == 0, second.stdout + second.stderr
    runs = instance.get_runs(filters=dg.RunsFilter(job_name="warehouse_job"))
    assert [run.status for run in runs] == [dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE]
