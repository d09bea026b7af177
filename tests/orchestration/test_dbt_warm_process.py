"""The run's warm dbt process: dbt's commands, exit codes and streams, served from a fork."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from orchestration import dbt_warm_process
from orchestration.dbt_launcher import SOCKET_ENV
from orchestration.dbt_warm_process import WarmDbtProcess, warm_dbt
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
    with warm_dbt(settings.DBT_PROJECT_DIR, warehouse=warehouse) as process:
        assert process is not None and process.wait_ready()
        assert os.environ[SOCKET_ENV] == process.socket_path
        # the warm process holds no lock on the warehouse: BI readers and the loads can open it
        duckdb.connect(str(warehouse)).close()
        nothing = _dbt(["--log-format", "json", "build", "--select", "tag:no_such_tag"], warehouse, tmp_path / "t")
        failed = _dbt(["build", "--select", "stg_plans__fx_rates"], warehouse, tmp_path / "t")  # no raw tables yet
        raised = _dbt(["run-operation", "no_such_macro"], warehouse, tmp_path / "t")
        served = process.served()
    assert SOCKET_ENV not in os.environ
    # dbt's own output on the launcher's stdout (JSON lines when asked), and dbt's exit codes
    assert nothing.returncode == 0, nothing.stdout + nothing.stderr
    assert '"name": "NothingToDo"' in nothing.stdout or '"NothingToDo"' in nothing.stdout
    assert failed.returncode == 1 and "stg_plans__fx_rates" in failed.stdout
    assert raised.returncode == 2 and "no_such_macro" in raised.stdout
    assert [entry["exit_code"] for entry in served] == [0, 1, 2]
    assert served[0]["argv"][:2] == ["--log-format", "json"]
    assert not any("leaked semaphore" in run.stderr for run in (nothing, failed, raised))


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


def test_stopping_removes_the_socket_and_restores_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SOCKET_ENV, "/elsewhere.sock")
    process = WarmDbtProcess(settings.DBT_PROJECT_DIR)
    process.start()
    assert os.environ[SOCKET_ENV] == process.socket_path
    process.stop()
    assert os.environ[SOCKET_ENV] == "/elsewhere.sock"
    assert not Path(process.socket_path).parent.exists()


def test_exit_code_follows_dbt() -> None:
    class Result:
        def __init__(self, success: bool, exception: BaseException | None = None) -> None:
            self.success, self.exception = success, exception

    assert dbt_warm_process.exit_code(Result(True)) == 0
    assert dbt_warm_process.exit_code(Result(False)) == 1
    assert dbt_warm_process.exit_code(Result(False, RuntimeError("boom"))) == 2
