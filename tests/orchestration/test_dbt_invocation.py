"""Around dbt invocations: old invocation folders and parse states are pruned, and a dbt process
whose events are no longer read is stopped."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from orchestration import dbt_invocation
from orchestration.dbt_invocation import (
    dbt_build,
    prune_invocation_folders,
    prune_parse_states,
    remove_project_copy,
    stop_process,
)


def test_only_the_newest_invocation_folders_are_kept(tmp_path: Path) -> None:
    names = [f"dbt_models-0000000{i}-abcdef0{i}" for i in range(5)]
    for age, name in enumerate(reversed(names)):
        folder = tmp_path / name
        (folder / "compiled").mkdir(parents=True)
        (folder / "run_results.json").write_text("{}")
        os.utime(folder, (1_000_000 - age, 1_000_000 - age))
    kept_apart = [tmp_path / "partial_parse", tmp_path / "manifest.json"]
    kept_apart[0].mkdir()
    kept_apart[1].write_text("{}")

    deleted = prune_invocation_folders(tmp_path, keep=2)

    assert sorted(p.name for p in deleted) == sorted(names[:3])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*names[3:], "partial_parse", "manifest.json"])


def test_only_the_most_recently_written_parse_states_are_kept(tmp_path: Path) -> None:
    states = [tmp_path / f"{i:016x}.msgpack" for i in range(5)]
    for age, state in enumerate(reversed(states)):
        state.write_bytes(b"state")
        os.utime(state, (1_000_000 - age, 1_000_000 - age))
    (tmp_path / "a1b2c3d4e5f60718.9f8e7d6c.tmp").write_bytes(b"being written")

    deleted = prune_parse_states(tmp_path, keep=2)

    assert sorted(deleted) == sorted(states[:3])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [states[3].name, states[4].name, "a1b2c3d4e5f60718.9f8e7d6c.tmp"]
    )
    assert prune_parse_states(tmp_path / "missing", keep=2) == []


def test_only_a_temporary_copy_of_the_project_is_removed(tmp_path: Path) -> None:
    project = tmp_path / "dbt_project"
    project.mkdir()
    (project / "dbt_project.yml").write_text("name: p\n")
    copy = Path(tempfile.mkdtemp())
    (copy / "dbt_project.yml").write_text("name: p\n")
    unrelated = Path(tempfile.mkdtemp())
    try:
        assert not remove_project_copy(project, project)  # dbt ran in the project itself
        assert not remove_project_copy(unrelated, project)  # a temporary folder, not a dbt project
        assert remove_project_copy(copy, project)
        assert not copy.exists() and project.exists() and unrelated.exists()
    finally:
        shutil.rmtree(copy, ignore_errors=True)
        shutil.rmtree(unrelated, ignore_errors=True)


_WRITES_FOREVER = "import sys\nwhile True:\n    sys.stdout.write('x' * 1000 + '\\n')\n"
_IGNORES_INTERRUPTS = (
    "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    time.sleep(0.05)\n"
)


def _started(code: str) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    time.sleep(0.5)  # the pipe is full by now: the writer blocks
    return process


def test_a_process_blocked_on_unread_output_is_stopped() -> None:
    process = _started(_WRITES_FOREVER)
    assert process.poll() is None
    started = time.monotonic()
    code = stop_process(process, timeout_s=10)
    assert code is not None and code != 0
    assert time.monotonic() - started < 5


def test_a_process_that_ignores_the_interrupt_is_terminated() -> None:
    process = _started(_IGNORES_INTERRUPTS)
    assert stop_process(process, timeout_s=0.5) == -signal.SIGTERM  # what spm-dbt forwards to dbt


def test_a_process_that_ignores_termination_is_killed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dbt_invocation, "TERMINATE_GRACE_S", 0.5)
    process = _started(
        _IGNORES_INTERRUPTS.replace("signal.SIG_IGN)", "signal.SIG_IGN)\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)")
    )
    assert stop_process(process, timeout_s=0.5) == -signal.SIGKILL


def test_dbt_is_stopped_when_its_events_stop_being_read(tmp_path: Path) -> None:
    process = _started(_WRITES_FOREVER)

    def stream() -> Iterator[str]:
        yield "first event"
        raise BrokenPipeError("the console's pipe closed")

    invocation = SimpleNamespace(
        stream=stream,
        process=process,
        termination_timeout_seconds=10.0,
        project_dir=tmp_path / "dbt_project",
        target_path=tmp_path / "target",
    )
    dbt = SimpleNamespace(project_dir=str(tmp_path / "dbt_project"), cli=lambda *args, **kwargs: invocation)
    context = SimpleNamespace(op=SimpleNamespace(name="dbt_models"), run_id="0123456789abcdef")
    build = dbt_build(dbt, context, tmp_path / "w.duckdb")  # type: ignore[arg-type]
    try:
        assert next(build) == "first event"
        assert process.poll() is None
        with pytest.raises(BrokenPipeError):
            next(build)
        assert process.poll() is not None
    finally:
        if process.poll() is None:
            process.kill()
