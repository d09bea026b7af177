"""Running a Dagster job from the command line, recorded in the instance `spm ui` shows.

Every `spm` command that runs a job (run, check, close-period, reopen-period) runs it in this
process, on the persistent Dagster instance of ``DAGSTER_HOME`` (default ``data/dagster_home``),
the one `spm ui` opens: every run, materialization and check result appears there. Its
``dagster.yaml`` is the repository's, copied in when the folder is the default one (a
``DAGSTER_HOME`` of your own keeps its configuration; the file is copied only when missing).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg

from core import settings
from spm.console import OutputCapture, RunFollower, StepDisplay

#: Tags on each run `spm` starts: which process runs it, so that a run whose process died
#: (killed, power cut) can be marked failed by the next command instead of showing as running.
PID_TAG = "spm/pid"
HOST_TAG = "spm/host"
COMMAND_TAG = "spm/command"
#: Log files of `spm` commands kept in ``data/logs``, newest first.
LOGS_KEPT = 50


def dagster_instance() -> dg.DagsterInstance:
    """The persistent Dagster instance in :func:`core.settings.dagster_home`, set up if needed."""
    home = settings.dagster_home()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    own_home = bool(os.environ.get("DAGSTER_HOME")) and home != (settings.data_dir() / "dagster_home").resolve()
    if not config.exists() or (not own_home and config.read_bytes() != settings.DAGSTER_YAML.read_bytes()):
        shutil.copyfile(settings.DAGSTER_YAML, config)
    os.environ["DAGSTER_HOME"] = str(home)
    return dg.DagsterInstance.get()


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def fail_abandoned_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark failed the runs an `spm` process on this machine started and never finished (its
    process is gone); return their ids."""
    host = socket.gethostname()
    abandoned = []
    runs = instance.get_runs(
        filters=dg.RunsFilter(
            statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.NOT_STARTED],
            tags={HOST_TAG: host},
        )
    )
    for run in runs:
        pid = run.tags.get(PID_TAG, "")
        if pid.isdigit() and int(pid) != os.getpid() and not _process_alive(int(pid)):
            instance.report_run_failed(run, message=f"the spm process (PID {pid}) ended before the run finished")
            abandoned.append(run.run_id)
    return abandoned


def new_log_path(command: str, run_id: str) -> Path:
    """A fresh log file for one command's run: ``data/logs/<command>-<UTC time>-<run id>.log``."""
    folder = settings.logs_dir()
    folder.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    logs = sorted(folder.glob("*.log"), key=lambda path: path.stat().st_mtime, reverse=True)
    for old in logs[LOGS_KEPT - 1 :]:
        old.unlink(missing_ok=True)
    return folder / f"{command}-{stamp}-{run_id[:8]}.log"


@dataclass
class JobRun:
    """A finished job run: Dagster's result, the log file and the wall time."""

    result: dg.ExecuteInProcessResult
    run_id: str
    log_path: Path
    elapsed_s: float


def run_job(
    definitions: dg.Definitions,
    job_name: str,
    command: str,
    run_config: Mapping[str, Any] | None = None,
    *,
    quiet: bool = False,
    verbose: bool = False,
    log_level: str = "INFO",
) -> JobRun:
    """Execute ``job_name`` of ``definitions`` in this process on the persistent instance.

    The run's output (Dagster's log lines, dbt's, dlt's) goes to a log file, and also to the
    terminal with ``verbose``; the terminal shows each step (nothing with ``quiet``).
    """
    instance = dagster_instance()
    fail_abandoned_runs(instance)
    job = definitions.resolve_job_def(job_name)
    run_id = str(uuid.uuid4())
    log_path = new_log_path(command, run_id)
    config = dict(run_config or {})
    config.setdefault("loggers", {"console": {"config": {"log_level": log_level}}})
    tags = {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname(), COMMAND_TAG: command}
    started = time.monotonic()
    display: StepDisplay | None = None

    def on_line(line: str) -> None:
        if display is not None:
            display.dbt.read(line)

    with OutputCapture(log_path, echo=verbose, on_line=on_line) as capture:
        display = StepDisplay(capture.terminal, quiet=quiet or verbose)
        with display.following(RunFollower(instance, run_id)):
            result = job.execute_in_process(
                run_config=config, instance=instance, run_id=run_id, tags=tags, raise_on_error=False
            )
    return JobRun(result, run_id, log_path, time.monotonic() - started)
