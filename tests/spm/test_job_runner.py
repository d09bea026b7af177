"""Runs that `spm` starts are recorded in the persistent Dagster instance; a run whose process was
killed is marked failed by the next command, and the next run works."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from tests.tiny_landing import write_tiny_landing

BIN = Path(sys.executable).parent
#: Columns that say when and by whom, different between any two runs or closes.
WHEN_AND_WHO = (
    "deal_load_id",  # the load that wrote a deal version: another run, another load id
    "deal_loaded_at",
    "closed_at",
    "acted_at",
    "acted_by",
    "closed_by",
    "reopened_at",
    "reopened_by",
    "run_id",
    "computed_at",
    "_staged_at",
    "staged_at",
)


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

    # and the warehouse is what one clean run makes
    from tests.warehouse_checks import table_fingerprints

    clean_data = tmp_path / "clean"
    clean = subprocess.run(
        command, env={**env, "SPM_DATA_DIR": str(clean_data)}, capture_output=True, text=True, timeout=1200
    )
    assert clean.returncode == 0, clean.stdout + clean.stderr
    schemas = ("staging", "marts", "rejects")
    after_kill = table_fingerprints(data / "warehouse.duckdb", schemas, WHEN_AND_WHO)
    assert after_kill["marts.fct_deals"][0] > 0
    assert after_kill == table_fingerprints(clean_data / "warehouse.duckdb", schemas, WHEN_AND_WHO)


def spm_run(landing: Path, data: Path, env: dict[str, str]) -> None:
    """`spm run` on ``landing`` with the data folder ``data``; it must succeed."""
    done = subprocess.run(
        [str(BIN / "spm"), "run", "--landing", str(landing), "--quiet"],
        env={**env, "SPM_DATA_DIR": str(data)},
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def kill_at_step(command: list[str], env: dict[str, str], instance: dg.DagsterInstance, job: str, step: str) -> None:
    """Run ``command`` and SIGKILL it with its children once its ``job`` run has started ``step``."""
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 600
    try:
        while time.monotonic() < deadline and process.poll() is None:
            for run in instance.get_runs(filters=dg.RunsFilter(job_name=job, statuses=[dg.DagsterRunStatus.STARTED])):
                steps = instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.STEP_START).records
                if any(record.event_log_entry.step_key == step for record in steps):
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(60)
                    return
            time.sleep(0.2)
        pytest.fail(f"{job} ended (exit code {process.poll()}) before its step {step} was seen")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(60)


def test_a_close_killed_in_its_dbt_step_then_a_run_equals_one_clean_close(
    dbt_manifest: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The close commits the ledger in one transaction, then rebuilds what reads it; killed in the
    rebuild, the next `spm run` leaves the finance marts and the ledger as an uninterrupted close."""
    from spm.job_runner import dagster_instance
    from tests.warehouse_checks import table_fingerprints

    landing = write_tiny_landing(tmp_path / "landing")
    killed_data, clean_data = tmp_path / "killed", tmp_path / "clean"
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    spm_run(landing, killed_data, env)
    clean_data.mkdir()
    shutil.copy2(killed_data / "warehouse.duckdb", clean_data / "warehouse.duckdb")

    close = [str(BIN / "spm"), "close-period", "2025-01", "--by", "test", "--quiet"]
    monkeypatch.setenv("SPM_DATA_DIR", str(killed_data))
    kill_at_step(close, {**env, "SPM_DATA_DIR": str(killed_data)}, dagster_instance(), "close_period_job", "dbt_build")
    spm_run(landing, killed_data, env)  # what a user runs next

    clean = subprocess.run(
        close, env={**env, "SPM_DATA_DIR": str(clean_data)}, capture_output=True, text=True, timeout=1200
    )
    assert clean.returncode == 0, clean.stdout + clean.stderr

    schemas = ("ledger", "marts")
    killed_state = table_fingerprints(killed_data / "warehouse.duckdb", schemas, WHEN_AND_WHO)
    clean_state = table_fingerprints(clean_data / "warehouse.duckdb", schemas, WHEN_AND_WHO)
    assert killed_state["ledger.payout_lines"][0] > 0, "the close froze payout lines"
    assert killed_state == clean_state
