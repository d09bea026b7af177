"""Running ``dbt build`` from an asset without re-parsing the project each time.

dagster-dbt gives every invocation its own target folder and seeds it with the project's
``target/partial_parse.msgpack``. dbt discards that file when the profile differs from the one it
was parsed with, and the profile's DuckDB ``path`` is the warehouse of the run (``SPM_WAREHOUSE``),
which is not the path ``dbt parse`` saw when the manifest was prepared: every invocation then
parsed the whole project again (about 7 s for ~80 models and ~400 tests).

So the partial-parse state is kept per warehouse, in ``target/partial_parse/<key>.msgpack``: an
invocation starts from the state the previous one on the same warehouse left, and leaves its own.
dbt still checks every file's hash against that state, so edited models are re-parsed as usual.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import signal
import subprocess
import tempfile
import uuid
from collections.abc import Generator
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource
from dagster_dbt.core.dbt_cli_invocation import DbtCliInvocation

from spm import settings

PARTIAL_PARSE_FILE = "partial_parse.msgpack"
#: Name of an invocation's own target folder: ``<op name>-<run id[:8]>-<random 8 hex>``.
_INVOCATION_FOLDER = re.compile(r"[a-z0-9_]+-[0-9a-f]{8}-[0-9a-f]{8}")

#: The job builds models and runs data tests, but not dbt's unit tests: their inputs are fixed
#: rows in YAML, so a production run learns nothing from them (dbt's own advice is to run them in
#: development and CI). They cost about 4 s per run at any scale; CI runs them
#: (tests/orchestration/test_dbt_unit_tests.py), and `dbt test --select test_type:unit` does by hand.
BUILD_ARGS = ["build", "--exclude-resource-type", "unit_test"]


def dbt_build(
    dbt: DbtCliResource,
    context: dg.AssetExecutionContext,
    warehouse: Path,
    raise_on_error: bool = True,
) -> Generator[Any, None, DbtCliInvocation]:
    """Run ``dbt build`` for the context's selection, yielding its Dagster events.

    The invocation starts from the parse state the previous one on ``warehouse`` left and, once
    it has finished, leaves its own; ``invocation = yield from dbt_build(...)`` returns it.
    """
    project_dir = Path(dbt.project_dir)
    target = project_dir / "target" / f"{context.op.name}-{context.run_id[:8]}-{uuid.uuid4().hex[:8]}"
    cached = settings.dbt_partial_parse_state(project_dir, warehouse)
    if cached.exists():
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(cached, target / PARTIAL_PARSE_FILE)
    invocation = dbt.cli(BUILD_ARGS, context=context, raise_on_error=raise_on_error, target_path=target)
    try:
        yield from invocation.stream()
    except BaseException:
        # The events stopped being read (a step error, or the console's pipe closed under
        # dagster-dbt's echo of them): dbt would run on, blocked on a full pipe, with the
        # warehouse open. dagster-dbt itself only stops it on an interrupt.
        stop_process(invocation.process, invocation.termination_timeout_seconds)
        raise
    finally:
        remove_project_copy(invocation.project_dir, project_dir)
    written = invocation.target_path / PARTIAL_PARSE_FILE
    if written.exists():
        cached.parent.mkdir(parents=True, exist_ok=True)
        staging = cached.with_suffix(f".{uuid.uuid4().hex[:8]}.tmp")
        shutil.copyfile(written, staging)
        staging.replace(cached)
    prune_invocation_folders(project_dir / "target", settings.dbt_invocations_kept())
    prune_parse_states(cached.parent, PARSE_STATES_KEPT)
    return invocation


#: How long a dbt process stopped by :func:`stop_process` gets after SIGTERM before SIGKILL.
TERMINATE_GRACE_S = 5.0


def stop_process(process: subprocess.Popen, timeout_s: float) -> int:
    """End a dbt process whose output is no longer read; return its exit code.

    It is interrupted as Ctrl-C would (SIGINT: dbt cancels its queries and closes the warehouse)
    and its output pipe is closed, so that what it still writes fails instead of blocking. If it
    has not ended within ``timeout_s`` it gets SIGTERM, which ``spm-dbt`` forwards to the dbt it
    runs in the warm process (SIGKILL would only end the launcher), and then SIGKILL.
    """
    if process.stdout is not None:
        with contextlib.suppress(OSError):
            process.stdout.close()
    for stop, wait_s in ((signal.SIGINT, timeout_s), (signal.SIGTERM, TERMINATE_GRACE_S), (signal.SIGKILL, None)):
        if process.poll() is not None:
            break
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(stop)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=wait_s)
    return process.returncode


#: Parse states kept (one per warehouse, about 2 MB each), the most recently used first. A
#: deployment has one or two warehouses; tests and benchmarks make a new one per run.
PARSE_STATES_KEPT = 20


def prune_parse_states(folder: Path, keep: int) -> list[Path]:
    """Delete all but the ``keep`` most recently written parse states in ``folder``; return them.

    A state is rewritten by every invocation on its warehouse, so the warehouses in use keep
    theirs; a state deleted by mistake only costs its warehouse one full parse.
    """
    if not folder.is_dir():
        return []
    states = sorted(folder.glob("*.msgpack"), key=lambda path: path.stat().st_mtime, reverse=True)
    deleted = states[max(keep, 1) :]
    for state in deleted:
        state.unlink(missing_ok=True)
    return deleted


def remove_project_copy(used: Path, project_dir: Path) -> bool:
    """Delete ``used`` if it is a temporary copy of ``project_dir``; return whether it was.

    For a selection of more than 200 nodes (a subset run, such as every check without the
    models) dagster-dbt copies the whole project folder, ``target/`` included, into a new
    temporary folder to write a selector there, runs dbt in the copy and leaves it behind:
    hundreds of megabytes per checks run on a developer's machine. The invocation's artifacts
    go to the target path given, not into the copy.
    """
    used, project_dir = Path(used).resolve(), Path(project_dir).resolve()
    temporary = Path(tempfile.gettempdir()).resolve()
    if used == project_dir or used.parent != temporary or not (used / "dbt_project.yml").exists():
        return False
    shutil.rmtree(used, ignore_errors=True)
    return True


def prune_invocation_folders(target: Path, keep: int) -> list[Path]:
    """Delete all but the ``keep`` newest invocation folders under ``target``; return those deleted.

    Only folders named as ``dbt_build`` names them (``<step>-<8 hex>-<8 hex>``) are touched; the
    folder of a running invocation is among the newest, so it is never deleted.
    """
    folders = [path for path in target.iterdir() if path.is_dir() and _INVOCATION_FOLDER.fullmatch(path.name)]
    folders.sort(key=lambda path: path.stat().st_mtime, reverse=True)
    deleted = folders[max(keep, 1) :]
    for folder in deleted:
        shutil.rmtree(folder, ignore_errors=True)
    return deleted
