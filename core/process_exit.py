"""Ending a command-line process without tearing its heap down object by object.

When Python exits it waits for its non-daemon threads, runs the atexit handlers, and then clears
every module and runs the cyclic garbage collector over what is left. After a warehouse run the
job's process holds about 600 k tracked objects (Dagster, dbt's adapter, dlt, Great
Expectations): that last part took 1.0-1.1 s of the 1.1 s from the end of the large daily run to
the end of its process (py-spy: ``gc_collect_main``). Its only effect is memory given back
piecewise just before the process gives all of it back at once.

:func:`exit_process` exits normally (threads joined, atexit handlers run) and then, instead of
the teardown, flushes logging and the standard streams and ends the process with its exit code.
Freezing the heap instead (``gc.freeze()``) also skips the collections, but leaves DuckDB's
nanobind module alive at its own finalisation, and it then reports every object as a leak.

Python makes no promise to finalise objects still alive at exit, so nothing may rely on it here
either: connections and files are closed by the code that opened them.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import sys
from typing import NoReturn

#: The exit code once :func:`exit_process` was called; None leaves the process's exit as it is.
_exit_code: int | None = None


def _end_without_teardown() -> None:
    """The last atexit handler (registered first): end here when :func:`exit_process` asked."""
    if _exit_code is None:
        return
    logging.shutdown()  # its own atexit handler may have been registered before this one
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError, AttributeError):  # closed or replaced
            stream.flush()
    os._exit(_exit_code)


atexit.register(_end_without_teardown)


def exit_process(code: int) -> NoReturn:
    """Exit with ``code``: threads joined and atexit handlers run as usual, the heap's teardown skipped."""
    global _exit_code
    _exit_code = code
    sys.exit(code)
