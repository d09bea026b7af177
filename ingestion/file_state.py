"""Per-file incremental loading: the landing folder's own cursor.

Each resource remembers, in dlt's resource state, the fingerprint of every file it has loaded.
The state is committed together with the load package, so a failed or killed run leaves the
files pending and the next run loads them again; a file that was loaded is never read twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TypeVar

import dlt
import pyarrow as pa

from ingestion.landing import LandingFile, entity_files, pending
from ingestion.prefetch import prefetched

Block = TypeVar("Block")

#: The line number of the item that follows a file's last block: the file was read whole.
_FILE_READ = -1


def iter_pending_tables(
    landing: Path, system: str, entity: str, read: Callable[[LandingFile], pa.Table]
) -> Iterator[tuple[LandingFile, pa.Table]]:
    """Yield ``(file, table)`` for each file of an entity not loaded yet, read whole (one block)."""
    for file, _, table in iter_pending_blocks(landing, system, entity, lambda f: [(1, read(f))]):
        yield file, table


def iter_pending_blocks(
    landing: Path,
    system: str,
    entity: str,
    read: Callable[[LandingFile], Iterable[tuple[int, Block]]],
    ahead: int = 0,
) -> Iterator[tuple[LandingFile, int, Block]]:
    """Yield ``(file, first line, block)`` for each block of each file of an entity not loaded yet,
    in name order, and mark a file loaded in the resource state once its last block is taken.

    A block is what ``read`` makes of a part of the file: an Arrow table, or its rows already
    split. With ``ahead``, that many blocks are read in a worker thread before they are taken
    (see :mod:`ingestion.prefetch`), across file boundaries; the resource state is still only
    touched in the caller's thread. Call it from within a dlt resource.
    """
    loaded: dict[str, str] = dlt.current.resource_state().setdefault("loaded_files", {})
    files = pending(entity_files(landing, system, entity), loaded)

    def blocks() -> Iterator[tuple[LandingFile, int, Block | None]]:
        for file in files:
            for first_line, block in read(file):
                yield file, first_line, block
            yield file, _FILE_READ, None

    def taken(items: Iterator[tuple[LandingFile, int, Block | None]]) -> Iterator[tuple[LandingFile, int, Block]]:
        for file, first_line, block in items:
            if first_line == _FILE_READ:
                loaded[file.relpath] = file.fingerprint
            else:
                yield file, first_line, block  # type: ignore[misc]

    return taken(prefetched(blocks(), ahead) if ahead else blocks())


def newest_file(landing: Path, system: str, entity: str) -> LandingFile | None:
    """The newest file of a snapshot entity (plans, pipelines), or None when there is none.

    Snapshot entities are written whole in every batch: the newest file is the truth and is
    loaded with ``replace`` on every run. They are small, and dlt's ``replace`` empties a table
    whose resource yields nothing, so skipping an unchanged snapshot is not an option.
    """
    files = entity_files(landing, system, entity)
    return files[-1] if files else None
