"""Peak resident memory of a process and all its descendants, sampled from /proc (Linux)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def tree_rss_bytes(root: int) -> int:
    """Resident memory of ``root`` and every descendant, in bytes (0 once it has exited)."""
    total, pending, seen = 0, [root], set()
    while pending:
        pid = pending.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
        except (OSError, IndexError, ValueError):
            continue
        pending += _children(pid)
    return total


class PeakMemory:
    """Samples a process tree's resident memory in a thread; ``peak_bytes`` is the highest seen.

    ``samples`` keeps every ``(epoch seconds, bytes)`` reading, so that the peak of a time window
    (one step of a job) can be told apart: see :meth:`peak_between`.
    """

    def __init__(self, pid: int, interval_s: float = 0.1) -> None:
        self.pid, self.interval_s, self.peak_bytes = pid, interval_s, 0
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            rss = tree_rss_bytes(self.pid)
            self.samples.append((time.time(), rss))
            self.peak_bytes = max(self.peak_bytes, rss)
            self._stop.wait(self.interval_s)

    def peak_between(self, start: float, end: float) -> int:
        """The highest reading taken from ``start`` to ``end`` (epoch seconds); 0 if none was."""
        return max((rss for at, rss in self.samples if start <= at <= end), default=0)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
