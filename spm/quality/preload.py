"""Importing Great Expectations ahead of the quality suites, while the process waits on dbt.

``import great_expectations`` costs about 2 s of CPU. In the warehouse job the suites run right
after the dbt build of the non-finance models, and that build runs in a dbt process of its own
while the job's process mostly waits for its events: importing GX then takes the import off
the run's critical path (the daily run at the large scale spent 2.2 s of its 4.7 s suite step
importing GX).

A later ``import great_expectations`` in another thread waits for this one to finish (Python's
per-module import lock), so no caller ever sees a half-imported module; if the background import
fails, the later import raises the error where it is needed.
"""

from __future__ import annotations

import importlib
import sys
import threading

#: The modules the suites import (:func:`spm.quality.frames.gx_batch`).
GX_MODULES = ("great_expectations", "great_expectations.execution_engine.pandas_execution_engine")

_lock = threading.Lock()
_thread: threading.Thread | None = None


def _import_all(modules: tuple[str, ...]) -> None:
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # the caller's own import raises it where it matters
            return


def preload_gx(modules: tuple[str, ...] = GX_MODULES) -> threading.Thread | None:
    """Start importing ``modules`` in a daemon thread, once per process; return the thread.

    Returns None when they are imported already or an import was started before.
    """
    global _thread
    with _lock:
        if _thread is not None or all(name in sys.modules for name in modules):
            return None
        _thread = threading.Thread(target=_import_all, args=(modules,), name="preload-gx", daemon=True)
        _thread.start()
        return _thread
