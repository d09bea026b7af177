"""Two BI readers of the serving file, run beside a job to show they neither wait nor block.

One keeps a read-only connection open the whole time and queries through it (a dashboard tool
with a connection pool); the other connects, queries and disconnects in a loop (a tool that
connects per query). Both count their queries and keep the first errors. Run as a process:
``python -m bench.readers SERVING STOP_FILE RESULT_JSON``; it stops once ``STOP_FILE`` exists
and writes its counts to ``RESULT_JSON``.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb

QUERY = "select count(*), sum(row_count) from serving_info.tables"
#: Pause between two queries of a reader (seconds).
PAUSE_S = 0.2


@dataclass
class ReaderCounts:
    """What one reader did."""

    queries: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    slowest_s: float = 0.0

    def record(self, started: float, error: Exception | None = None) -> None:
        """Count one query (and its error, if it failed)."""
        self.slowest_s = max(self.slowest_s, time.monotonic() - started)
        self.queries += 1
        if error is not None:
            self.failed += 1
            if len(self.errors) < 5:
                self.errors.append(str(error).splitlines()[0])


def _holding(serving: Path, stop: threading.Event, counts: ReaderCounts) -> None:
    connection = duckdb.connect(str(serving), read_only=True)
    try:
        while not stop.is_set():
            started = time.monotonic()
            try:
                connection.execute(QUERY).fetchall()
                counts.record(started)
            except duckdb.Error as error:
                counts.record(started, error)
            stop.wait(PAUSE_S)
    finally:
        connection.close()


def _connecting(serving: Path, stop: threading.Event, counts: ReaderCounts) -> None:
    while not stop.is_set():
        started = time.monotonic()
        try:
            with duckdb.connect(str(serving), read_only=True) as connection:
                connection.execute(QUERY).fetchall()
            counts.record(started)
        except duckdb.Error as error:
            counts.record(started, error)
        stop.wait(PAUSE_S)


def read_until(serving: Path, stop_file: Path) -> dict[str, dict]:
    """Run both readers on ``serving`` until ``stop_file`` exists; their counts by reader."""
    readers = {"holding": ReaderCounts(), "connecting": ReaderCounts()}
    stop = threading.Event()
    threads = [
        threading.Thread(target=_holding, args=(serving, stop, readers["holding"])),
        threading.Thread(target=_connecting, args=(serving, stop, readers["connecting"])),
    ]
    for thread in threads:
        thread.start()
    while not stop_file.exists():
        time.sleep(PAUSE_S)
    stop.set()
    for thread in threads:
        thread.join()
    return {name: asdict(counts) for name, counts in readers.items()}


def main(argv: list[str]) -> int:
    """``SERVING STOP_FILE RESULT_JSON``: read until told to stop, then write the counts."""
    serving, stop_file, result = (Path(arg) for arg in argv)
    print("reading", flush=True)
    counts = read_until(serving, stop_file)
    result.write_text(json.dumps(counts))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
