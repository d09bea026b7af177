"""Hand memory a finished step freed back to the operating system.

All steps of a run share one process (the in-process executor). Memory a step freed stays with
that process unless returned: glibc keeps freed heap pages for reuse and Arrow's allocator keeps
its own, so after the CRM load and the quality suites the process stayed about 1 GiB larger than
it started, and that came on top of the DuckDB of the next dbt step (measured at the large scale:
0.4 GiB at start, 1.25 GiB after the CRM load, 2.0 GiB after the suites).

Collecting garbage walks every object the collector tracks. In the job's process those are
mostly the modules and definitions of Dagster, dlt and dbt, loaded before the run and kept until
its end: a full collection took 0.17-0.25 s at the end of each of the 8 steps of a run (1.7 s of
the daily run at the large scale). A run freezes them as it starts (:func:`freeze_startup_heap`,
``gc.freeze``), so collections walk only the objects the run made (5-65 ms), and thaws them as it
ends (:func:`thaw_startup_heap`): frozen objects are still freed when no longer referenced, but a
reference cycle among them (garbage already at the freeze included) waits for the thaw.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from functools import cache

import pyarrow as pa


@cache
def _malloc_trim() -> ctypes._CFuncPtr | None:
    """glibc's ``malloc_trim``, or None where the C library has none (macOS, musl)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    return getattr(ctypes.CDLL(name), "malloc_trim", None)


def freeze_startup_heap() -> bool:
    """Leave the objects that exist now out of garbage collections until :func:`thaw_startup_heap`;
    return whether it froze them. Nothing is frozen when something else already froze objects
    (another run in this process): one run's thaw must not thaw another's heap."""
    if gc.get_freeze_count():
        return False
    gc.freeze()
    return True


def thaw_startup_heap(frozen: bool) -> None:
    """Give the objects frozen by :func:`freeze_startup_heap` back to the garbage collector, if it froze them."""
    if frozen:
        gc.unfreeze()


def release_memory() -> None:
    """Collect garbage, then return the free pages of Arrow's pool and of the C heap."""
    gc.collect()
    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
