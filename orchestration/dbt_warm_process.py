"""The run's warm dbt process: dbt imported and the project read once, each command in a fork.

A dbt command started cold spends about 2.4 s before its first model: 1.1 s importing dbt and
the adapter, 0.9 s reading the project (partial parse) and building dbt's classes the first time.
A daily run starts two (``dbt_models``, ``dbt_finance``). The dbt resource starts this process
when a run begins, beside the loads: it imports dbt, parses the project once into a scratch
folder (warming dbt's caches; the result is thrown away), and then waits on a Unix socket. For
each ``spm-dbt`` command (``orchestration/dbt_launcher.py``) it forks a child that takes over
the launcher's standard streams, environment and working directory and runs
``dbtRunner().invoke(arguments)``: dbt's own command, with its own partial parse of the
invocation's target folder, so edits to the project are seen as they would be by ``dbt``. The
warm-up also compiles every macro's template into dbt's template cache, and every node's SQL and
test arguments into a cache of compiled code (``orchestration/dbt_templates.py``), which the
commands inherit. Forked warm, the command reaches its first model in about 0.7 s. Its events are built
and formatted only when a logger writes them (``orchestration/dbt_event_levels.py``): the same
lines for less work. Its queue hands out first the ready node that heads the longest chain
(``orchestration/dbt_scheduling.py``). A ``build`` writes its run results but not the manifest
(``orchestration/dbt_artifacts.py``). The exit code is dbt's: 0, 1 when a node failed, 2 when
dbt itself raised.

Safety:

- The process stays single-threaded, so forking it is safe: the warm-up parses without dbt's
  static parser, whose native extractor leaves threads behind. If a thread (native ones
  counted) is left anyway, it declines every command and the launcher runs the real ``dbt``.
- It opens no database: the warm-up only parses. The children open the warehouse as dbt does.
- It runs in its own session and ignores SIGINT: a Ctrl-C (or Dagster's termination) reaches a
  command through its launcher, which forwards it. It exits when the run's process is gone or
  on SIGTERM (the resource's stop); a command whose launcher disappears is interrupted (SIGINT,
  as dbt expects) and reaped, and a command whose warm process is killed gets SIGTERM.

Only on Linux (threads are counted in ``/proc``); elsewhere the launcher runs dbt itself.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from orchestration.dbt_artifacts import skip_manifest_writes
from orchestration.dbt_event_levels import check_level_before_formatting, skip_events_nobody_writes
from orchestration.dbt_launcher import SOCKET_ENV, STARTING_MARKER, receive_message, send_message
from orchestration.dbt_scheduling import prioritise_longest_chains
from orchestration.dbt_templates import cache_compiled_templates, precompile_nodes
from spm import settings

#: How long :meth:`WarmDbtProcess.wait_ready` waits by default.
READY_TIMEOUT_S = 30.0
_POLL_S = 0.02
_PR_SET_PDEATHSIG = 1
_REQUEST_TIMEOUT_S = 10.0
#: How long an interrupted command (its launcher gone, or a stop) has to end before SIGKILL.
INTERRUPT_GRACE_S = 30.0
#: File beside the socket listing the commands served (one JSON object per line).
JOURNAL = "served.jsonl"
#: Set by SIGTERM: finish (interrupt) the command in progress, then exit.
_stopping = False


def supported() -> bool:
    """Whether this platform can pass standard streams to a forked process and count the
    process's threads (Linux: ``/proc/self/task``)."""
    return sys.platform == "linux" and hasattr(socket, "send_fds") and hasattr(os, "fork")


def single_threaded() -> bool:
    """Whether this process runs one thread, counting native ones (a fork copies only the
    calling thread: a lock another thread held stays locked in the child for ever)."""
    try:
        return threading.active_count() == 1 and len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False


def exit_code(status: object) -> int:
    """The process exit code of ``SystemExit(status)``, as the interpreter would give it."""
    if status is None:
        return 0
    if isinstance(status, int):
        return status
    print(status, file=sys.stderr)
    return 1


def _warm_up(project_dir: Path, partial_parse: Path | None) -> None:
    """Parse the project once in a scratch target folder, seeded with the run's parse state."""
    from dbt.cli.main import dbtRunner

    with tempfile.TemporaryDirectory(prefix="spm-dbt-warm-") as target:
        if partial_parse is not None and partial_parse.exists():
            shutil.copyfile(partial_parse, Path(target) / "partial_parse.msgpack")
        folders = ["--project-dir", str(project_dir), "--profiles-dir", str(project_dir), "--target-path", target]
        # Without dbt's static parser: its native extractor leaves worker threads behind (a full
        # parse started two), and a process with threads must not fork. The commands use it.
        # No usage tracking (a network call; dagster-dbt turns it off for its commands too) and
        # no file log (the project's logs/dbt.log would get a parse nobody asked for).
        quiet = ["--quiet", "--no-send-anonymous-usage-stats", "--log-level-file", "none"]
        parsed = dbtRunner().invoke([*quiet, "parse", "--no-static-parser", *folders])
    manifest = getattr(parsed, "result", None)
    _compile_macros(manifest)
    precompile_nodes(manifest)  # into the cache of compiled code (orchestration/dbt_templates.py)


def _compile_macros(manifest: Any) -> int:
    """Compile every macro's Jinja template into dbt's process-wide template cache; return how many.

    dbt compiles a macro's template the first time a command calls it and keeps it in
    ``dbt_common.clients.jinja.template_cache``, keyed by the macro's source, for the life of the
    process. A forked command inherits the cache, so compiling the project's macros here (589,
    0.7 s, while the run loads its sources) spares each command compiling the hundred or more it
    calls (0.5 s of the GIL in the large daily build). A macro edited since is a new key, and is
    compiled by the command as usual.
    """
    from dbt_common.clients.jinja import template_cache

    macros = getattr(manifest, "macros", None) or {}
    for macro in macros.values():
        template_cache.get_node_template(macro)
    return len(macros)


def _run_child(message: dict, fds: list[int]) -> None:
    """In the forked child: become the launcher's dbt command and exit with dbt's code."""
    code = 2
    try:
        with contextlib.suppress(Exception):  # end with the warm process if it is killed (Linux)
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        for number, fd in enumerate(fds):
            os.dup2(fd, number)
            os.close(fd)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.chdir(message["cwd"])
        os.environ.clear()
        os.environ.update(message["env"])
        if os.environ.get("PYTHONUNBUFFERED"):  # as the launcher's environment asks of a new process
            sys.stdout.reconfigure(write_through=True)
            sys.stderr.reconfigure(write_through=True)
        from dbt.cli.main import cli
        from dbt_common.events.functions import reset_metadata_vars

        reset_metadata_vars()  # DBT_ENV_CUSTOM_ENV_* are read again from this environment
        sys.argv = ["dbt", *message["argv"]]
        try:  # exactly what the `dbt` script runs, usage errors and exit codes included
            cli.main(args=list(message["argv"]), prog_name="dbt")
            code = 0
        except SystemExit as exited:
            code = exit_code(exited.code)
    except BaseException:
        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _wait_for_child(pid: int, connection: socket.socket) -> int:
    """Wait for the child; interrupt it (SIGINT, as Ctrl-C would) if its launcher goes away or
    this process is asked to stop, and kill it if it is still there ``INTERRUPT_GRACE_S`` later
    (it would hold the warehouse open, and this process serves one command at a time). Returns
    its exit code."""
    interrupted_at: float | None = None
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        readable, _, _ = select.select([connection], [], [], _POLL_S)
        try:
            gone = bool(readable) and not connection.recv(1, socket.MSG_PEEK)
        except OSError:  # reset: the launcher died with our reply unread
            gone = True
        if (gone or _stopping) and interrupted_at is None:
            os.kill(pid, signal.SIGINT)
            interrupted_at = time.monotonic()
        elif interrupted_at is not None and time.monotonic() - interrupted_at > INTERRUPT_GRACE_S:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if gone:
            time.sleep(_POLL_S)  # the closed socket stays readable: do not spin


def _serve_one(server: socket.socket, connection: socket.socket, can_fork: bool, journal: Path) -> None:
    message, fds = receive_message(connection, max_fds=3)
    connection.settimeout(None)
    if message is None or len(fds) != 3 or not can_fork:
        for fd in fds:
            os.close(fd)
        with contextlib.suppress(OSError):
            send_message(connection, {"declined": "no fork" if message else "bad request"})
        return
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        server.close()
        connection.close()
        _run_child(message, fds)
    for fd in fds:
        os.close(fd)
    try:
        send_message(connection, {"pid": pid})
    except OSError:
        os.kill(pid, signal.SIGINT)
    code = _wait_for_child(pid, connection)
    with contextlib.suppress(OSError), journal.open("a", encoding="utf-8") as served:
        served.write(json.dumps({"pid": pid, "argv": message["argv"], "exit_code": code}) + "\n")
    with contextlib.suppress(OSError):
        send_message(connection, {"exit_code": code})


def _stop(*_: object) -> None:
    global _stopping
    _stopping = True


def serve(socket_path: str, project_dir: str, parent: int, partial_parse: str | None = None) -> None:
    """The warm process's main loop (``python -m orchestration.dbt_warm_process``); it ends
    when process ``parent`` (the run's) is gone or on SIGTERM."""
    signal.signal(signal.SIGTERM, _stop)
    # Ctrl-C reaches the commands through their launchers (which forward it), not this process.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    folder = Path(socket_path).parent
    try:
        import dbt.cli.main  # noqa: F401  (the import is the point)

        check_level_before_formatting()  # for the commands forked from here (see its module)
        skip_events_nobody_writes()  # likewise
        prioritise_longest_chains()  # likewise
        skip_manifest_writes()  # likewise
        cache_compiled_templates()  # likewise

        with contextlib.suppress(Exception):
            _warm_up(Path(project_dir), Path(partial_parse) if partial_parse else None)
        gc.freeze()  # the warm heap stays out of the collector's way: fewer pages copied per fork
        can_fork = single_threaded()
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        # Listening before the socket appears under its name: a launcher that finds it can connect.
        server.bind(socket_path + ".starting")
        server.listen(8)
        os.rename(socket_path + ".starting", socket_path)
    finally:  # listening or failed: launchers stop waiting either way
        with contextlib.suppress(OSError):
            (folder / STARTING_MARKER).unlink()
    server.settimeout(0.1)  # how soon a stop (SIGTERM) or a vanished parent is noticed
    try:
        while os.getppid() == parent and not _stopping:
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            with connection:
                connection.settimeout(_REQUEST_TIMEOUT_S)  # a request is sent at once
                try:
                    _serve_one(server, connection, can_fork, folder / JOURNAL)
                except Exception:  # one bad request must not end the process (or its command)
                    traceback.print_exc()
    finally:
        server.close()
        gc.unfreeze()  # collectable again should the interpreter finalise (a stop ends with os._exit)
        with contextlib.suppress(OSError):
            os.unlink(socket_path)
        if os.getppid() != parent:  # the run's process died without stopping us: clean up
            shutil.rmtree(folder, ignore_errors=True)


class WarmDbtProcess:
    """Starts and stops the warm process of one run; its socket goes in ``SPM_DBT_WARM_SOCKET``."""

    def __init__(
        self, project_dir: Path, partial_parse: Path | None = None, warehouse: Path | None = None, stderr: Any = None
    ) -> None:
        self.project_dir, self.partial_parse, self.warehouse = Path(project_dir), partial_parse, warehouse
        self.stderr = stderr  # where the process's own errors go (default: this process's stderr)
        self._folder = Path(tempfile.mkdtemp(prefix="spm-dbt-"))
        self.socket_path = str(self._folder / "warm.sock")
        self._process: subprocess.Popen | None = None
        self._previous_socket: str | None = None

    def start(self) -> None:
        """Start the process and name its socket in ``SPM_DBT_WARM_SOCKET``. It warms up in the
        background; a command started meanwhile waits for it (``dbt_launcher.wait_for_warm_up``)."""
        arguments = [sys.executable, "-m", "orchestration.dbt_warm_process", self.socket_path, str(self.project_dir)]
        arguments.append(str(os.getpid()))
        if self.partial_parse is not None:
            arguments.append(str(self.partial_parse))
        environment = dict(os.environ)
        environment.pop(SOCKET_ENV, None)
        if self.warehouse is not None:  # the profile of the parse state it warms up with
            environment["SPM_WAREHOUSE"] = str(self.warehouse)
        # A forked command ends with os._exit, so the semaphores dbt made in it are released by
        # multiprocessing's resource tracker (started by the warm-up), which would warn for each.
        quiet_tracker = "ignore::UserWarning:multiprocessing.resource_tracker"
        environment["PYTHONWARNINGS"] = ",".join(filter(None, [environment.get("PYTHONWARNINGS"), quiet_tracker]))
        # Its own session: a Ctrl-C in the terminal reaches the commands through their launchers.
        self._process = subprocess.Popen(
            arguments,
            cwd=self.project_dir,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self.stderr,
            start_new_session=True,
        )
        # A command started while it warms up waits for it (a cold dbt would compete for the CPU).
        (self._folder / STARTING_MARKER).write_text(str(self._process.pid))
        self._previous_socket = os.environ.get(SOCKET_ENV)
        os.environ[SOCKET_ENV] = self.socket_path

    def wait_ready(self, timeout_s: float = READY_TIMEOUT_S) -> bool:
        """Whether the process listens, waiting up to ``timeout_s`` (False if it died)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                return False
            if os.path.exists(self.socket_path):
                return True
            time.sleep(0.05)
        return False

    @property
    def returncode(self) -> int | None:
        """The process's exit code once it has ended (None while it runs or before it starts)."""
        return None if self._process is None else self._process.poll()

    def served(self) -> list[dict]:
        """The commands served so far: ``{"pid", "argv", "exit_code"}`` each."""
        journal = Path(self.socket_path).with_name(JOURNAL)
        if not journal.exists():
            return []
        return [json.loads(line) for line in journal.read_text(encoding="utf-8").splitlines() if line]

    def stop(self) -> None:
        """Stop the process, remove its socket folder and restore ``SPM_DBT_WARM_SOCKET``."""
        if os.environ.get(SOCKET_ENV) == self.socket_path:
            if self._previous_socket is None:
                os.environ.pop(SOCKET_ENV, None)
            else:
                os.environ[SOCKET_ENV] = self._previous_socket
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        shutil.rmtree(self._folder, ignore_errors=True)


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] if len(sys.argv) > 4 else None)
    # Stopped cleanly: skip finalising dbt's heap object by object (0.3 s at the end of every run,
    # which waits for this exit). Nothing else is pending: no database is open, the journal is
    # written per command, and only the standard streams may hold buffered output.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


#: The warm process :func:`start_early` started, until a run's dbt resource adopts it.
_early: WarmDbtProcess | None = None


def start_early(warehouse: Path, project_dir: Path = settings.DBT_PROJECT_DIR) -> WarmDbtProcess | None:
    """Start the warm process of a coming run on ``warehouse`` now; None where there is none.

    A command-line run calls it before importing Dagster and the project's definitions (2.3 s of
    one core): the warm-up (importing dbt, parsing the project, compiling its macros: about 3 s
    of CPU) then uses the other core instead of competing with the first loads. The run's dbt
    resource adopts it (:func:`adopt_early`) and stops it at the end; should the run never start,
    it ends with this process, as any warm process does.
    """
    global _early
    if not supported():
        return None
    if _early is not None:
        _early.stop()
    project_dir, warehouse = Path(project_dir), Path(warehouse).resolve()
    process = WarmDbtProcess(project_dir, settings.dbt_partial_parse_state(project_dir, warehouse), warehouse)
    process.start()
    _early = process
    return process


def adopt_early(project_dir: Path, warehouse: Path | None) -> WarmDbtProcess | None:
    """The running process :func:`start_early` started for this project and warehouse, now the
    caller's to stop; None if there is none. One started for another run is stopped."""
    global _early
    process, _early = _early, None
    if process is None:
        return None
    same = process.project_dir == Path(project_dir) and process.warehouse == warehouse
    if same and process.returncode is None:
        return process
    process.stop()
    return None
