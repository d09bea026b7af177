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


def test_a_small_process_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """Below the floor nothing is collected or trimmed (a full collection of a big process costs
    a noticeable fraction of a second per step)."""
    calls: list[str] = []
    monkeypatch.setattr(memory_release, "_malloc_trim", lambda: calls.append("trim"))
    monkeypatch.setattr(memory_release, "resident_bytes", lambda: 1 << 20)
    memory_release.release_memory()
    assert calls == []
    monkeypatch.setattr(memory_release, "resident_bytes", lambda: memory_release.RELEASE_FLOOR_BYTES + 1)
    memory_release.release_memory()
    assert calls == ["trim"]
