"""An OS-level lock that serialises writers of one warehouse file across processes.

DuckDB admits one writing process per file. Inside one Dagster run the steps share a pool of
size one; this lock also covers a second run (UI, schedule, `spm run`) started at the same
time: it waits its turn instead of failing on DuckDB's file lock, and says what it waits for.
"""

from __future__ import annotations

import fcntl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


class WarehouseBusyError(RuntimeError):
    """Another process kept the warehouse locked for longer than we were willing to wait."""


@contextmanager
def warehouse_write_lock(
    warehouse: Path, timeout_s: float = 3600.0, on_wait: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold ``<warehouse>.lock`` exclusively while the block writes the warehouse."""
    lock_path = Path(f"{warehouse}.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a+") as handle:
        deadline = time.monotonic() + timeout_s
        announced = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not announced and on_wait is not None:
                    on_wait(f"waiting for another process writing {warehouse} (lock {lock_path})")
                    announced = True
                if time.monotonic() > deadline:
                    raise WarehouseBusyError(
                        f"{warehouse} stayed locked by another writer for {timeout_s:.0f} s ({lock_path})"
                    ) from None
                time.sleep(0.5)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
