"""Freed memory goes back to the operating system between steps."""

import sys
from pathlib import Path

import pytest

from orchestration import memory_release


def _rss_bytes() -> int:
    import os

    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim and /proc are Linux's")
def test_freed_heap_is_returned() -> None:
    assert memory_release._malloc_trim() is not None
    # Many small objects live on the C heap (below glibc's mmap threshold); freeing them leaves the
    # pages with the process until the heap is trimmed.
    blocks = [bytearray(2000) for _ in range(100_000)]
    keep = bytearray(16)  # allocated last: the heap's top stays in use, so only a trim frees below it
    before = _rss_bytes()
    del blocks
    memory_release.release_memory()
    assert _rss_bytes() < before - 100 * 2**20
    del keep


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_collections_skip_the_startup_heap_until_thawed() -> None:
    import gc
    import weakref

    from orchestration.resources import WarehouseResource

    resource = WarehouseResource(warehouse_path="unused.duckdb")
    frozen_before = gc.get_freeze_count()
    cycle = _Cycle()
    alive = weakref.ref(cycle)
    resource.setup_for_execution(None)  # type: ignore[arg-type]  # the context is not used
    try:
        assert gc.get_freeze_count() > frozen_before
        del cycle  # garbage now, but frozen: collections leave it alone
        memory_release.release_memory()
        assert alive() is not None
        made_later = _Cycle()
        made_later_alive = weakref.ref(made_later)
        del made_later
        memory_release.release_memory()
        assert made_later_alive() is None  # objects the run makes are collected as before
    finally:
        resource.teardown_after_execution(None)  # type: ignore[arg-type]
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert alive() is None
