"""The run's warm dbt process: dbt's commands, exit codes and streams, served from a fork."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from orchestration import dbt_launcher, dbt_warm_process
from orchestration.dbt_launcher import SOCKET_ENV, receive_message, send_message
from orchestration.dbt_warm_process import WarmDbtProcess
from spm import settings

pytestmark = pytest.mark.skipif(not dbt_warm_process.supported(), reason="needs fork and socket.send_fds")

LAUNCHER = Path(sys.executable).with_name("spm-dbt")


def _dbt(arguments: list[str], warehouse: Path, target: Path) -> subprocess.CompletedProcess:
    """``spm-dbt <arguments>`` in the project, as dagster-dbt starts it (environment inherited)."""
    return subprocess.run(
        [str(LAUNCHER), *arguments, "--target-path", str(target)],
        cwd=settings.DBT_PROJECT_DIR,
        env=dict(os.environ, SPM_WAREHOUSE=str(warehouse)),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_commands_are_served_warm_with_dbt_exit_codes_and_output(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    duckdb.connect(str(warehouse)).close()
    errors = tmp_path / "warm-process.err"
    with errors.open("w") as stderr:
        process = WarmDbtProcess(settings.DBT_PROJECT_DIR, warehouse=warehouse, stderr=stderr)
        process.start()
        try:
            assert process.wait_ready()
            assert os.environ[SOCKET_ENV] == process.socket_path
            # the warm process holds no lock on the warehouse: BI readers and the loads can open it
            duckdb.connect(str(warehouse)).close()
            target = tmp_path / "t"
            nothing = _dbt(["--log-format", "json", "build", "--select", "tag:no_such_tag"], warehouse, target)
            failed = _dbt(["build", "--select", "stg_plans__fx_rates"], warehouse, target)  # no raw tables yet
            raised = _dbt(["run-operation", "no_such_macro"], warehouse, target)
            misused = _dbt(["build", "--no-such-option"], warehouse, target)
            served = process.served()
        finally:
            process.stop()
    assert SOCKET_ENV not in os.environ
    assert process.returncode == 0  # stopped by its SIGTERM handler, not killed
    # dbt's own output on the launcher's streams (JSON lines when asked), and dbt's exit codes
    assert nothing.returncode == 0, nothing.stdout + nothing.stderr
    assert '"name": "NothingToDo"' in nothing.stdout
    assert failed.returncode == 1 and "stg_plans__fx_rates" in failed.stdout
    assert raised.returncode == 2 and "no_such_macro" in raised.stdout
    assert misused.returncode == 2 and "No such option" in misused.stderr  # click's usage error, as dbt's
    assert [entry["exit_code"] for entry in served] == [0, 1, 2, 2]
    assert served[0]["argv"][:2] == ["--log-format", "json"]
    # nothing went wrong in the warm process itself (nor did the semaphore tracker complain)
    assert errors.read_text() == ""


def test_without_a_warm_process_the_launcher_is_dbt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SOCKET_ENV, str(tmp_path / "nobody-listens.sock"))
    result = _dbt(["build", "--select", "tag:no_such_tag"], tmp_path / "w.duckdb", tmp_path / "t")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Nothing to do" in result.stdout


def test_a_command_whose_launcher_is_gone_is_interrupted() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    ours, launchers = socket.socketpair()
    launchers.close()  # the launcher went away (killed) while its command runs
    try:
        code = dbt_warm_process._wait_for_child(child.pid, ours)
        child.returncode = code  # reaped by _wait_for_child
    finally:
        ours.close()
        if child.returncode is None:
            child.kill()
            child.wait()
    assert code == -signal.SIGINT  # interrupted as Ctrl-C would, not left running for a minute


def test_a_command_that_ignores_the_interrupt_is_killed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dbt_warm_process, "INTERRUPT_GRACE_S", 0.5)
    code = "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\ntime.sleep(60)\n"
    child = subprocess.Popen([sys.executable, "-c", code])
    time.sleep(0.3)  # its handler is in place
    ours, launchers = socket.socketpair()
    launchers.close()
    try:
        exit_code = dbt_warm_process._wait_for_child(child.pid, ours)
        child.returncode = exit_code
    finally:
        ours.close()
        if child.returncode is None:
            child.kill()
            child.wait()
    assert exit_code == -signal.SIGKILL  # not left holding the warehouse, nor this process


def test_stopping_restores_the_environment_and_ends_the_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SOCKET_ENV, "/elsewhere.sock")
    process = WarmDbtProcess(settings.DBT_PROJECT_DIR)
    process.start()
    assert os.environ[SOCKET_ENV] == process.socket_path
    assert process.wait_ready()
    process.stop()
    assert os.environ[SOCKET_ENV] == "/elsewhere.sock"
    assert process.returncode == 0  # its SIGTERM handler ended the loop (a kill would be -9)


def test_messages_are_read_one_at_a_time() -> None:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        send_message(theirs, {"pid": 1})
        send_message(theirs, {"exit_code": 0})  # both queued before the first is read
        theirs.close()
        assert receive_message(ours) == ({"pid": 1}, [])
        assert receive_message(ours) == ({"exit_code": 0}, [])
        assert receive_message(ours) == (None, [])


def test_a_warm_process_that_died_while_starting_is_not_waited_for() -> None:
    exited = subprocess.Popen([sys.executable, "-c", "pass"])
    while Path(f"/proc/{exited.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
        pass  # exited, not yet reaped: kill(pid, 0) still succeeds on such a zombie
    try:
        assert not dbt_launcher._warming_up(exited.pid)
        assert dbt_launcher._warming_up(os.getpid())
    finally:
        exited.wait()


def test_exit_codes_follow_the_interpreter() -> None:
    assert dbt_warm_process.exit_code(None) == 0
    assert dbt_warm_process.exit_code(2) == 2
    assert dbt_warm_process.exit_code("a message") == 1


def test_macros_are_compiled_into_dbts_template_cache() -> None:
    from types import SimpleNamespace

    from dbt_common.clients.jinja import get_dbt_macro_name, template_cache

    sources = ["{% macro spm_test_a() %}a{% endmacro %}", "{% macro spm_test_b(x) %}{{ x }}{% endmacro %}"]
    manifest = SimpleNamespace(macros={f"macro.t.{i}": SimpleNamespace(macro_sql=s) for i, s in enumerate(sources)})
    try:
        assert dbt_warm_process._compile_macros(manifest) == 2
        assert all(source in template_cache.file_cache for source in sources)
        compiled = template_cache.file_cache[sources[1]]
        assert compiled.make_module().__dict__[get_dbt_macro_name("spm_test_b")]("y") == "y"
        assert dbt_warm_process._compile_macros(None) == 0  # a parse that failed leaves nothing to compile
    finally:
        for source in sources:
            template_cache.file_cache.pop(source, None)


def test_a_process_started_early_is_adopted_by_its_run_only(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(SOCKET_ENV, raising=False)
    warehouse = tmp_path / "w.duckdb"
    early = dbt_warm_process.start_early(warehouse)
    try:
        assert early is not None and os.environ[SOCKET_ENV] == early.socket_path
        assert early.partial_parse == settings.dbt_partial_parse_state(settings.DBT_PROJECT_DIR, warehouse.resolve())
        assert dbt_warm_process.adopt_early(settings.DBT_PROJECT_DIR, warehouse.resolve()) is early
        assert dbt_warm_process.adopt_early(settings.DBT_PROJECT_DIR, warehouse.resolve()) is None  # adopted once
    finally:
        early.stop()

    other = dbt_warm_process.start_early(warehouse)
    assert dbt_warm_process.adopt_early(settings.DBT_PROJECT_DIR, tmp_path / "another.duckdb") is None
    assert other.returncode is not None  # started for another warehouse: stopped, not left running
    assert SOCKET_ENV not in os.environ


def test_the_runs_dbt_resource_adopts_the_early_process(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import dagster as dg

    from orchestration.resources import dbt_resource

    monkeypatch.delenv(SOCKET_ENV, raising=False)
    warehouse = tmp_path / "w.duckdb"
    resource = dbt_resource(warehouse)
    if Path(resource.dbt_executable).name != LAUNCHER.name:
        pytest.skip("dbt runs cold here: no warm process to adopt")
    early = dbt_warm_process.start_early(warehouse)
    with dg.build_init_resource_context() as context:
        try:
            resource.setup_for_execution(context)
            assert resource._warm is early
        finally:
            resource.teardown_after_execution(context)
    assert early.returncode is not None  # the resource stops what it adopted
