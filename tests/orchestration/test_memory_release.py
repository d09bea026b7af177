"""Freed memory goes back to the operating system between steps."""

import sys
from pathlib import Path

import pytest

from orchestration import memory_release


def _rss_bytes() -> int:
    import os

    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim and /proc are Linux's")
def test_freed_heap_is_returned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory_release, "RELEASE_FLOOR_BYTES", 0)  # this test process is small
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


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim and /proc are Linux's")
def test_a_small_process_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory_release, "RELEASE_FLOOR_BYTES", 1 << 50)
    assert abs(memory_release.resident_bytes() - _rss_bytes()) < 2**20
    blocks = [bytearray(2000) for _ in range(100_000)]
    keep = bytearray(16)
    before = _rss_bytes()
    del blocks
    memory_release.release_memory()  # below the floor: no collection, no trim
    assert _rss_bytes() > before - 50 * 2**20
    del keep
