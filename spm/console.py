"""What a person sees while a job runs: one line per step, and everything else in a log file.

A run in this process writes a lot to its standard streams: dagster-dbt echoes every dbt line,
Dagster's console logger every event, dlt and Great Expectations their own. While a job runs,
:class:`OutputCapture` points the process's standard output and error (the file descriptors, so
child processes are included) at a pipe; a thread copies what arrives into the run's log file,
echoes it to the terminal when asked (``--verbose``) and hands each line to a callback, which is
how the dbt step's progress (``12 of 207 OK ...``) is followed. :class:`StepDisplay` shows the
steps, from the Dagster events of the run (:class:`RunFollower` reads them from the instance),
as a live table on a terminal or as one line per finished step elsewhere.
"""

from __future__ import annotations

import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    import dagster as dg

#: A dbt node finished: ``12 of 207 OK created sql table model ...``, ``3 of 207 PASS ...``.
_DBT_NODE_DONE = re.compile(r"\b(\d+) of (\d+) (OK|PASS|FAIL|ERROR|WARN|SKIP|NO-OP)\b")


class OutputCapture:
    """Send this process's standard output and error (and its children's) to ``log_path``.

    ``echo`` also copies them to the terminal; ``on_line`` receives every complete line. The
    original standard output stays writable through :attr:`terminal`.
    """

    def __init__(self, log_path: Path, echo: bool = False, on_line: Callable[[str], None] | None = None) -> None:
        self.log_path = log_path
        self.echo = echo
        self.on_line = on_line
        self.terminal: IO[str] = sys.stdout
        self._saved: list[int] = []
        self._streams: tuple[IO[str], IO[str]] = (sys.stdout, sys.stderr)
        self._reader: threading.Thread | None = None

    def __enter__(self) -> OutputCapture:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        sys.stdout.flush()
        sys.stderr.flush()
        self._saved = [os.dup(1), os.dup(2)]
        self.terminal = os.fdopen(os.dup(self._saved[0]), "w", buffering=1, encoding="utf-8", errors="replace")
        read_end, write_end = os.pipe()
        os.dup2(write_end, 1)
        os.dup2(write_end, 2)
        os.close(write_end)
        # Python-level writers too, whatever sys.stdout was (a test's capture, say)
        self._streams = (sys.stdout, sys.stderr)
        sys.stdout = open(1, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)
        sys.stderr = open(2, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)
        self._reader = threading.Thread(target=self._pump, args=(read_end,), name="spm-output", daemon=True)
        self._reader.start()
        return self

    def _pump(self, read_end: int) -> None:
        pending = b""
        with open(self.log_path, "ab") as log, os.fdopen(read_end, "rb", buffering=0) as pipe:
            while chunk := pipe.read(65536):
                log.write(chunk)
                log.flush()
                if self.echo:
                    try:
                        self.terminal.write(chunk.decode("utf-8", errors="replace"))
                        self.terminal.flush()
                    except (OSError, ValueError):
                        self.echo = False
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    self._line(line)
            if pending:
                self._line(pending)

    def _line(self, raw: bytes) -> None:
        if self.on_line is None:
            return
        try:
            self.on_line(raw.decode("utf-8", errors="replace"))
        except Exception:  # a display problem must never stall the pipe
            self.on_line = None

    def __exit__(self, *exc: object) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        sys.stdout, sys.stderr = self._streams
        os.dup2(self._saved[0], 1)
        os.dup2(self._saved[1], 2)
        for fd in self._saved:
            os.close(fd)
        if self._reader is not None:
            # A child process that outlived the job may still hold the pipe; do not wait for it.
            self._reader.join(timeout=30)
        self.terminal.flush()
        self.terminal.close()


@dataclass
class StepState:
    """What is known about one step of the run."""

    name: str
    status: str = "running"  # running | done | failed | skipped
    started: float = field(default_factory=time.time)  # epoch seconds, from the run's events
    ended: float | None = None
    materialized: int = 0
    rows_loaded: int = 0
    checks_passed: int = 0
    checks_failed: int = 0
    checks_warned: int = 0
    published: str = ""  # what the publish step copied, e.g. "36 tables, 71,230 rows published"

    @property
    def seconds(self) -> float:
        """How long the step ran (so far)."""
        return max(0.0, (self.ended or time.time()) - self.started)


@dataclass
class DbtProgress:
    """How far the dbt build is, from dbt's own console lines."""

    done: int = 0
    total: int = 0
    failed: int = 0
    skipped: int = 0

    def read(self, line: str) -> None:
        """Count one line of dbt's output if it reports a finished node."""
        match = _DBT_NODE_DONE.search(line)
        if match is None or " hook: " in line:  # the on-run-start / on-run-end hooks count apart
            return
        self.done = max(self.done, int(match[1]))
        self.total = int(match[2])
        if match[3] in ("FAIL", "ERROR"):
            self.failed += 1
        elif match[3] == "SKIP":
            self.skipped += 1


class RunFollower:
    """The steps of one Dagster run, read from the instance's event log as they happen."""

    def __init__(self, instance: dg.DagsterInstance, run_id: str) -> None:
        self.instance = instance
        self.run_id = run_id
        self.steps: dict[str, StepState] = {}
        self._cursor: str | None = None

    def poll(self) -> list[StepState]:
        """Read the events recorded since the last poll; return the steps that ended meanwhile."""
        import dagster as dg

        kinds = {
            dg.DagsterEventType.STEP_START,
            dg.DagsterEventType.STEP_SUCCESS,
            dg.DagsterEventType.STEP_FAILURE,
            dg.DagsterEventType.STEP_SKIPPED,
            dg.DagsterEventType.ASSET_MATERIALIZATION,
            dg.DagsterEventType.ASSET_CHECK_EVALUATION,
        }
        ended = []
        while True:
            connection = self.instance.get_records_for_run(self.run_id, cursor=self._cursor, of_type=kinds, limit=500)
            self._cursor = connection.cursor
            for record in connection.records:
                entry = record.event_log_entry
                event = entry.dagster_event
                if event is None or event.step_key is None:
                    continue
                step = self.steps.setdefault(event.step_key, StepState(event.step_key, started=entry.timestamp))
                kind = event.event_type
                if kind == dg.DagsterEventType.STEP_START:
                    step.started = entry.timestamp
                elif kind in (
                    dg.DagsterEventType.STEP_SUCCESS,
                    dg.DagsterEventType.STEP_FAILURE,
                    dg.DagsterEventType.STEP_SKIPPED,
                ):
                    step.status = {
                        dg.DagsterEventType.STEP_SUCCESS: "done",
                        dg.DagsterEventType.STEP_FAILURE: "failed",
                    }.get(kind, "skipped")
                    step.ended = entry.timestamp
                    ended.append(step)
                elif kind == dg.DagsterEventType.ASSET_MATERIALIZATION:
                    step.materialized += 1
                    metadata = event.step_materialization_data.materialization.metadata
                    rows = metadata.get("rows_loaded")
                    if rows is not None:
                        step.rows_loaded += int(rows.value)
                    if event.asset_key is not None and event.asset_key.path[0] == "serving" and "tables" in metadata:
                        total = int(metadata["dagster/row_count"].value)
                        step.published = f"{metadata['tables'].value} tables, {total:,} rows published"
                else:
                    evaluation = event.asset_check_evaluation_data
                    if evaluation.passed:
                        step.checks_passed += 1
                    elif evaluation.severity == dg.AssetCheckSeverity.WARN:
                        step.checks_warned += 1
                    else:
                        step.checks_failed += 1
            if not connection.has_more:
                return ended


_MARKS = {"running": "…", "done": "✓", "failed": "✗", "skipped": "-"}


def describe(step: StepState, dbt: DbtProgress | None = None) -> str:
    """One line on a step: mark, name, seconds, and what it did."""
    parts = []
    if step.rows_loaded:
        parts.append(f"{step.rows_loaded:,} rows loaded")
    if dbt is not None and dbt.total:
        text = f"dbt nodes {dbt.done}/{dbt.total}"
        if dbt.failed or dbt.skipped:
            text += f" ({dbt.failed} failed, {dbt.skipped} skipped)"
        parts.append(text)
    elif step.published:
        parts.append(step.published)
    elif step.materialized:
        parts.append(f"{step.materialized} asset" + ("s" if step.materialized != 1 else ""))
    checks = step.checks_passed + step.checks_failed + step.checks_warned
    if checks:
        text = f"checks {step.checks_passed}/{checks} passed"
        if step.checks_warned:
            text += f", {step.checks_warned} warned"
        parts.append(text)
    status = step.status if step.status != "running" else "running"
    return f"  {_MARKS[status]} {step.name:<20} {step.seconds:6.1f} s   {', '.join(parts)}".rstrip()


class StepDisplay:
    """Shows the steps of a run on ``terminal``: a live table on a terminal, one line per finished
    step otherwise; nothing when ``quiet``."""

    def __init__(self, terminal: IO[str], quiet: bool = False, live: bool | None = None) -> None:
        self.terminal = terminal
        self.quiet = quiet
        self.live = terminal.isatty() if live is None else live
        self.dbt = DbtProgress()
        self._printed: set[str] = set()

    @contextmanager
    def following(self, follower: RunFollower, period_s: float = 0.5) -> Iterator[None]:
        """Follow ``follower``'s run in a thread until the block ends, then show the last state."""
        if self.quiet:
            yield
            return
        stop = threading.Event()
        renderer = self._live_renderer() if self.live else None

        def loop() -> None:
            while True:
                stopping = stop.wait(period_s)
                try:
                    ended = follower.poll()
                except Exception:  # the instance was busy: try again on the next tick
                    ended = []
                if renderer is not None:
                    renderer.update(self._table(follower))
                else:
                    for step in ended:
                        self._print_line(step)
                if stopping:
                    return

        thread = threading.Thread(target=loop, name="spm-progress", daemon=True)
        if renderer is not None:
            renderer.start()
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join(timeout=60)
            if renderer is not None:
                renderer.update(self._table(follower))
                renderer.stop()

    def _dbt_for(self, step: StepState) -> DbtProgress | None:
        return self.dbt if step.name.startswith("dbt") else None

    def _print_line(self, step: StepState) -> None:
        if step.name in self._printed:
            return
        self._printed.add(step.name)
        self.terminal.write(describe(step, self._dbt_for(step)) + "\n")
        self.terminal.flush()

    def _live_renderer(self):
        from rich.console import Console
        from rich.live import Live

        # rich would otherwise swap sys.stdout and sys.stderr for its own while the display is
        # live, and dbt's and Dagster's lines would reach the screen instead of the log file
        return Live(
            console=Console(file=self.terminal),
            refresh_per_second=4,
            transient=False,
            redirect_stdout=False,
            redirect_stderr=False,
        )

    def _table(self, follower: RunFollower) -> object:
        from rich.text import Text

        lines = [describe(step, self._dbt_for(step)) for step in follower.steps.values()]
        return Text("\n".join(lines) if lines else "  … starting")
