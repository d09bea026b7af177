"""Hand the memory a finished step freed back to the operating system.

All steps of a run share one process (the in-process executor). Memory a step freed stays with
that process unless returned: glibc keeps freed heap pages for reuse and Arrow's allocator keeps
its own, so after the CRM load and the quality suites the process stayed about 1 GiB larger than
it started, on top of the DuckDB of the dbt step that follows (measured at the large scale:
0.4 GiB at start, 1.25 GiB after the CRM load, 2.0 GiB after the suites).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
from functools import cache

import pyarrow as pa


@cache
def _malloc_trim() -> ctypes._CFuncPtr | None:
    """glibc's ``malloc_trim``, or None where the C library has none (macOS, musl)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    return getattr(ctypes.CDLL(name), "malloc_trim", None)


#: Below this resident size a step's memory is left alone: a full garbage collection of a process
#: holding Dagster, dbt and GX costs about 0.3 s, three times in a close, for nothing to return.
RELEASE_FLOOR_BYTES = 1 << 30


def resident_bytes() -> int | None:
    """This process's resident memory (Linux: /proc/self/statm), or None where it cannot be read."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def release_memory() -> None:
    """Collect garbage, then return the free pages of Arrow's pool and of the C heap, when the
    process holds more than :data:`RELEASE_FLOOR_BYTES` (or its size cannot be read)."""
    resident = resident_bytes()
    if resident is not None and resident < RELEASE_FLOOR_BYTES:
        return
    gc.collect()
    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
