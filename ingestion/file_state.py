"""Per-file incremental loading: the landing folder's own cursor.

Each resource remembers, in dlt's resource state, the fingerprint of every file it has loaded.
The state is committed together with the load package, so a failed or killed run leaves the
files pending and the next run loads them again; a file that was loaded is never read twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import dlt
import pyarrow as pa

from ingestion.landing import LandingFile, entity_files, pending


def iter_pending_tables(
    landing: Path, system: str, entity: str, read: Callable[[LandingFile], pa.Table]
) -> Iterator[tuple[LandingFile, pa.Table]]:
    """Yield ``(file, table)`` for each file of an entity not loaded yet, read whole (one block)."""
    for file, _, table in iter_pending_blocks(landing, system, entity, lambda f: [(1, read(f))]):
        yield file, table


def iter_pending_blocks(
    landing: Path, system: str, entity: str, read: Callable[[LandingFile], Iterable[tuple[int, pa.Table]]]
) -> Iterator[tuple[LandingFile, int, pa.Table]]:
    """Yield ``(file, first line, table)`` for each block of each file of an entity not loaded yet,
    in name order, and mark a file loaded in the resource state once its last block is taken."""
    state = dlt.current.resource_state()
    loaded: dict[str, str] = state.setdefault("loaded_files", {})
    for file in pending(entity_files(landing, system, entity), loaded):
        for first_line, table in read(file):
            yield file, first_line, table
        loaded[file.relpath] = file.fingerprint


def newest_file(landing: Path, system: str, entity: str) -> LandingFile | None:
    """The newest file of a snapshot entity (plans, pipelines), or None when there is none.

    Snapshot entities are written whole in every batch: the newest file is the truth and is
    loaded with ``replace`` on every run. They are small, and dlt's ``replace`` empties a table
    whose resource yields nothing, so skipping an unchanged snapshot is not an option.
    """
    files = entity_files(landing, system, entity)
    return files[-1] if files else None
