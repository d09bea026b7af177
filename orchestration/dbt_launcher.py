"""``spm-dbt``: the dbt command, served by the run's warm dbt process when there is one.

dagster-dbt starts ``<dbt executable> build ...`` for every dbt step and reads its JSON log lines
from stdout. A cold ``dbt`` spends about 2.4 s importing dbt and re-reading the project before
its first model, twice in every run. ``spm-dbt`` takes the same arguments; when the environment
names a warm process (``SPM_DBT_WARM_SOCKET``, set by the dbt resource for the run, see
``orchestration/dbt_warm_process.py``) it hands that process its arguments, environment,
working directory and standard streams, and the process forks a child that runs the command on
them. The child writes to this process's stdout, as dbt itself would; this process forwards
SIGINT and SIGTERM to it and exits with its exit code.

With no warm process (or one that does not answer) it becomes the real ``dbt`` (``exec``), so
the command behaves as dbt's in every case. This module imports nothing beyond the standard
library and ``spm.settings`` (which only reads paths): its own start-up is part of what it saves.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import struct
import sys
import time
from pathlib import Path

from spm import settings

#: Environment variable naming the warm process's Unix socket.
SOCKET_ENV = "SPM_DBT_WARM_SOCKET"
#: Exit code when the warm process stops answering mid-command (dbt's own code for a crash).
LOST_WORKER_EXIT = 2
#: File beside the socket holding the warm process's pid while it warms up (before it listens).
STARTING_MARKER = "starting"
#: Longest wait for a warm process still warming up (it takes about 2 s); then dbt runs cold.
WARM_UP_WAIT_S = 15.0

_HEADER = struct.Struct("!I")


def send_message(connection: socket.socket, message: dict, fds: list[int] | None = None) -> None:
    """Send one length-prefixed JSON message (with ``fds`` attached to its first bytes, if any)."""
    payload = json.dumps(message).encode()
    data = _HEADER.pack(len(payload)) + payload
    sent = socket.send_fds(connection, [data], fds) if fds else 0
    connection.sendall(data[sent:])


def _receive_exactly(connection: socket.socket, size: int, received: bytes = b"") -> bytes | None:
    while len(received) < size:
        more = connection.recv(size - len(received))
        if not more:
            return None
        received += more
    return received


def receive_message(connection: socket.socket, max_fds: int = 0) -> tuple[dict | None, list[int]]:
    """Receive one message sent by :func:`send_message`: (message, fds), or (None, []) at EOF.

    Reads exactly one message, so a second one already queued (the exit code right after the
    pid, for a quick command) stays for the next call.
    """
    fds: list[int] = []
    if max_fds:  # the descriptors come with the first bytes: read (at most) the header with them
        first, fds, _, _ = socket.recv_fds(connection, _HEADER.size, max_fds)
        if not first:
            return None, fds
    else:
        first = b""
    header = _receive_exactly(connection, _HEADER.size, first)
    if header is None:
        return None, fds
    (length,) = _HEADER.unpack(header)
    payload = _receive_exactly(connection, length)
    if payload is None:
        return None, fds
    return json.loads(payload), fds


def _warming_up(pid: int) -> bool:
    """Whether process ``pid`` is alive (a zombie, exited but not yet reaped, is not)."""
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in {"Z", "X"}


def wait_for_warm_up(path: str, timeout_s: float = WARM_UP_WAIT_S) -> None:
    """Wait while the warm process of ``path`` is alive and still warming up (at most ``timeout_s``)."""
    marker = Path(path).with_name(STARTING_MARKER)
    deadline = time.monotonic() + timeout_s
    while not os.path.exists(path) and time.monotonic() < deadline:
        try:
            pid = int(marker.read_text())
        except (OSError, ValueError):
            return  # not starting: nothing to wait for
        if not _warming_up(pid):
            return  # it died before listening: dbt runs cold
        time.sleep(0.05)


def _exec_real_dbt(arguments: list[str]) -> None:
    executable = settings.dbt_executable()
    os.execvp(executable, [executable, *arguments])


def main(arguments: list[str] | None = None) -> int:
    """Run dbt with ``arguments`` (default: this process's) in the warm process, or exec dbt."""
    arguments = sys.argv[1:] if arguments is None else arguments
    path = os.environ.get(SOCKET_ENV)
    if not path or not hasattr(socket, "send_fds"):
        _exec_real_dbt(arguments)
    wait_for_warm_up(path)
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        connection.connect(path)
        sys.stdout.flush()
        send_message(connection, {"argv": arguments, "env": dict(os.environ), "cwd": os.getcwd()}, fds=[0, 1, 2])
        started, _ = receive_message(connection)
    except OSError:
        started = None
    if not started or "pid" not in started:  # no warm process, or it declined: dbt as usual
        connection.close()
        _exec_real_dbt(arguments)
    child = int(started["pid"])

    def forward(signum: int, _frame: object) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signum)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    finished, _ = receive_message(connection)  # interrupted calls resume (PEP 475)
    connection.close()
    if not finished or "exit_code" not in finished:
        print("spm-dbt: the warm dbt process ended without an exit code", file=sys.stderr)
        return LOST_WORKER_EXIT
    code = int(finished["exit_code"])
    if code < 0:  # the command died of a signal (the OOM killer's SIGKILL, say): so does this
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    return code


def entry_point() -> None:
    """Console script ``spm-dbt``."""
    sys.exit(main())


if __name__ == "__main__":
    entry_point()
