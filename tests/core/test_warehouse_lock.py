"""Writers of one warehouse take turns across processes."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import pytest

from core.warehouse_lock import WarehouseBusyError, warehouse_write_lock


def _hold(path: str, seconds: float, ready: multiprocessing.Event) -> None:
    with warehouse_write_lock(Path(path)):
        ready.set()
        time.sleep(seconds)


def test_second_writer_waits_then_times_out(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    ready = multiprocessing.Event()
    holder = multiprocessing.Process(target=_hold, args=(str(warehouse), 3.0, ready))
    holder.start()
    try:
        assert ready.wait(10)
        held_since = time.monotonic()
        messages: list[str] = []
        with (
            pytest.raises(WarehouseBusyError, match="stayed locked"),
            warehouse_write_lock(warehouse, timeout_s=0.6, on_wait=messages.append),
        ):
            pass
        assert messages and "waiting for another process" in messages[0]
        with warehouse_write_lock(warehouse, timeout_s=10):
            # the lock is granted only once the holder has let go (it holds for 3 s)
            assert time.monotonic() - held_since >= 2.5
    finally:
        holder.join(10)
