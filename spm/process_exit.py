"""Ending a command-line process without the interpreter's last garbage collections.

When Python exits it clears every module and runs the cyclic garbage collector over what is left.
After a warehouse run the job's process holds about 600 k tracked objects (Dagster, dbt's
adapter, dlt, Great Expectations), and those final collections took 1.0–1.1 s of the daily run's
1.1 s from the job's end to the process's end. Freezing the heap first moves every object out of
the collector's reach: atexit handlers still run and the standard streams are still flushed, the
memory goes back to the system with the process, and the exit takes under 0.1 s.

Python makes no promise to finalise objects still alive at exit, so nothing here may rely on it:
connections and files are closed by the code that opened them.
"""

from __future__ import annotations

import gc
import sys
from typing import NoReturn


def exit_process(code: int) -> NoReturn:
    """Exit with ``code`` (atexit handlers run, streams flush) without collecting the heap first."""
    gc.freeze()
    sys.exit(code)
