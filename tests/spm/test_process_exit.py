"""A quick exit still runs atexit handlers, flushes output and keeps the exit code."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from spm import cli

PROGRAM = textwrap.dedent(
    """
    import atexit, gc, sys
    from spm.process_exit import exit_process

    atexit.register(lambda: print("atexit ran, frozen:", gc.get_freeze_count() > 0))
    sys.stdout.write("buffered output, no newline")
    exit_process(int(sys.argv[1]))
    """
)


@pytest.mark.parametrize("code", [0, 3])
def test_exit_keeps_code_output_and_handlers(code: int) -> None:
    done = subprocess.run([sys.executable, "-c", PROGRAM, str(code)], capture_output=True, text=True, timeout=60)
    assert done.returncode == code
    assert done.stdout == "buffered output, no newlineatexit ran, frozen: True\n"
    assert done.stderr == ""


def test_console_script_exits_with_mains_code(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "main", lambda: 4)
    frozen: list[bool] = []
    monkeypatch.setattr("spm.process_exit.gc.freeze", lambda: frozen.append(True))
    with pytest.raises(SystemExit) as exited:
        cli.run()
    assert exited.value.code == 4
    assert frozen == [True]
