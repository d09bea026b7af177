"""Writers of one warehouse take turns across processes."""

from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path

import pytest

from core.warehouse_lock import WarehouseBusyError, warehouse_write_lock


def _hold(
    path: str, ready: multiprocessing.Event, release: multiprocessing.Event, released: multiprocessing.Event
) -> None:
    with warehouse_write_lock(Path(path)):
        ready.set()
        release.wait(120)
        released.set()


def test_second_writer_waits_then_times_out(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    ready, release, released = multiprocessing.Event(), multiprocessing.Event(), multiprocessing.Event()
    holder = multiprocessing.Process(target=_hold, args=(str(warehouse), ready, release, released))
    holder.start()
    try:
        assert ready.wait(60)
        messages: list[str] = []
        with (
            pytest.raises(WarehouseBusyError, match="stayed locked"),
            warehouse_write_lock(warehouse, timeout_s=0.6, on_wait=messages.append),
        ):
            pass
        assert messages and "waiting for another process" in messages[0]
        threading.Timer(1.0, release.set).start()
        with warehouse_write_lock(warehouse, timeout_s=120):
            # the lock is granted only once the holder has let go
            assert released.is_set()
    finally:
        release.set()
        holder.join(60)
