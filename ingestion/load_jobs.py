"""How many of a load's jobs run at once: one at a time when a job is large.

dlt loads each file of a load package as a job, up to 20 at once. DuckDB already spreads each
insert over all its threads, so large jobs side by side compete for the same cores and hold
their buffers at the same time. Measured on the first-day CRM load at the large scale (seven
files of 0.1 to 1.2 GB, the load step of the same package run again on a copy), seven pairs,
one at a time faster in each:

- side by side: 30.0 s on average, 49 user CPU-seconds, peak 2.6 GiB;
- one at a time: 28.6 s, 45 user CPU-seconds, peak 2.2 GiB.

Small jobs are the opposite. A day's CRM load has about 40 jobs of a few MB, mostly waiting on
their own statements, and one at a time took 0.84–0.91 s against 0.67–0.70 s. So a load runs
its jobs one at a time only when one of its files is at least :data:`LARGE_JOB_BYTES`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

import dlt
from dlt.common.pipeline import LoadInfo

#: A load file at least this large makes its load run its jobs one at a time.
LARGE_JOB_BYTES = 64 << 20


def workers_for(file_sizes: Iterable[int]) -> int | None:
    """1 when any of the files is large, else None (dlt's own setting applies)."""
    return 1 if any(size >= LARGE_JOB_BYTES for size in file_sizes) else None


def pending_file_sizes(pipeline: dlt.Pipeline) -> list[int]:
    """Sizes of the files the pipeline's normalized packages have not loaded yet."""
    return [
        job.file_size
        for load_id in pipeline.list_normalized_load_packages()
        for job in pipeline.get_load_package_info(load_id).jobs["new_jobs"]
    ]


def install(pipeline: dlt.Pipeline) -> None:
    """Make ``pipeline.load`` (also what ``pipeline.run`` calls) pick its workers by
    :func:`workers_for`, unless the caller passes ``workers``."""
    load = pipeline.load

    @functools.wraps(load)
    def sized_load(*args: Any, **kwargs: Any) -> LoadInfo:
        if "workers" not in kwargs:
            workers = workers_for(pending_file_sizes(pipeline))
            if workers is not None:
                kwargs["workers"] = workers
        return load(*args, **kwargs)

    pipeline.load = sized_load  # type: ignore[method-assign]
