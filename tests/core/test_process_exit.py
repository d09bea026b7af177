"""A quick exit keeps what a normal one does (threads joined, atexit handlers run, output flushed,
exit code) and skips only the heap's teardown."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from core import process_exit
from spm import cli

PROGRAM = textwrap.dedent(
    """
    import atexit, logging, logging.handlers, sys, threading, time
    import duckdb
    from core.process_exit import exit_process

    class Finalised:
        def __del__(self):
            sys.stdout.write(" finalised")

    kept = Finalised()  # a module global: only the interpreter's teardown finalises it
    connection = duckdb.connect()
    cycle = [connection.sql("select 1").types]
    cycle.append(cycle)  # DuckDB objects in a cycle: left to the collector at teardown
    buffered = logging.handlers.MemoryHandler(1000, flushLevel=logging.CRITICAL, flushOnClose=True,
                                              target=logging.StreamHandler(sys.stdout))
    logging.getLogger("spm-test").addHandler(buffered)
    logging.getLogger("spm-test").warning("logged")  # held until logging shuts down
    threading.Thread(target=lambda: (time.sleep(0.2), sys.stdout.write("thread done "))).start()
    atexit.register(lambda: sys.stdout.write("atexit ran "))
    sys.stdout.write("output ")
    if sys.argv[1] == "quick":
        exit_process(int(sys.argv[2]))
    sys.exit(int(sys.argv[2]))
    """
)


def _run(mode: str, code: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", PROGRAM, mode, str(code)], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("code", [0, 3])
def test_quick_exit_keeps_everything_but_the_teardown(code: int) -> None:
    done = _run("quick", code)
    assert done.returncode == code
    assert done.stdout == "output thread done atexit ran logged\n"
    assert done.stderr == ""  # no teardown, so no leak report from DuckDB's bindings either


def test_without_a_quick_exit_the_teardown_runs() -> None:
    done = _run("normal", 5)
    assert done.returncode == 5
    assert done.stdout.startswith("output thread done atexit ran logged\n")
    assert "finalised" in done.stdout


def test_console_script_exits_with_mains_code(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "main", lambda: 4)
    monkeypatch.setattr(process_exit, "_exit_code", None)  # put back afterwards: pytest exits as it would
    with pytest.raises(SystemExit) as exited:
        cli.run()
    assert exited.value.code == 4
    assert process_exit._exit_code == 4  # the quick exit is armed
