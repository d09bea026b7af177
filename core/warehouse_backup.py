"""Backing the warehouse up to one file, and putting such a file back.

A DuckDB warehouse is two files while it is written: ``warehouse.duckdb`` and, until the next
checkpoint, ``warehouse.duckdb.wal`` with the latest changes. :func:`backup` takes the write lock
(no run, close or publish can start meanwhile, and it waits for one that is under way), runs a
``CHECKPOINT`` so the file alone holds everything, copies it under a temporary name beside the
destination, checks the copy opens, and renames it into place: the destination is either the
old file or the complete new one. :func:`restore` does the same the other way, under the same
lock, and removes what belongs to the replaced warehouse: its ``.wal`` and the working folders
the caller names (`spm restore`: dlt's ``.dlt_pipelines/<name>``, so that dlt reads its per-file
load state from the restored warehouse and the next run loads what arrived after the backup).

The survey pseudonymisation key generated for a warehouse (``<warehouse>.pseudonym_key``, see
``core.settings.pseudonym_key_file``) travels with it: a backup writes ``<backup>.pseudonym_key``
beside the copy and a restore puts it back, so respondents keep their pseudonyms.

Every refusal is a :class:`BackupError` whose message is one line naming the file.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from core.durable_files import replace_durably
from core.settings import pseudonym_key_file
from core.warehouse_lock import WarehouseBusyError, checkpoint, warehouse_write_lock

#: Marks a copy not yet renamed into place (``.<name>.partial-<pid>``), removed if the copy fails.
PARTIAL_MARK = ".partial-"


class BackupError(RuntimeError):
    """A backup or restore that was refused or failed; nothing was replaced."""


@dataclass(frozen=True)
class Copied:
    """What a backup or restore wrote: the file, its size and the tables it holds."""

    path: Path
    bytes: int
    tables: int
    seconds: float


def _wal(database: Path) -> Path:
    return Path(f"{database}.wal")


def _check_target(target: Path, force: bool, what: str) -> None:
    if target.is_dir():
        raise BackupError(f"{target} is a folder; name the {what} file (e.g. {target / 'warehouse.duckdb'})")
    if not target.parent.is_dir():
        raise BackupError(f"the folder {target.parent} does not exist; create it first")
    if target.exists() and not force:
        raise BackupError(f"{target} exists; pass --force to replace it")


def _tables(database: Path) -> int:
    """Tables in ``database``, opened read-only; a file DuckDB cannot open is a :class:`BackupError`."""
    try:
        with duckdb.connect(str(database), read_only=True) as connection:
            return int(connection.execute("select count(*) from duckdb_tables()").fetchone()[0])
    except duckdb.Error as exc:
        raise BackupError(f"{database} is not a DuckDB warehouse: {str(exc).strip().splitlines()[0]}") from None


def _copy_into_place(source: Path, target: Path) -> int:
    """Copy ``source`` to ``target`` atomically (temporary name, fsync, rename); the tables copied.

    A ``.wal`` beside ``target`` belongs to the file being replaced: it is removed before the
    rename, so DuckDB never replays it onto the copy.
    """
    partial = target.with_name(f".{target.name}{PARTIAL_MARK}{os.getpid()}")
    try:
        shutil.copyfile(source, partial)
        tables = _tables(partial)
        _wal(target).unlink(missing_ok=True)
        replace_durably(partial, target)
    except OSError as exc:
        raise BackupError(f"writing {target} failed: {exc.strerror or exc}; {target} is unchanged") from None
    finally:
        partial.unlink(missing_ok=True)
    return tables


def _copy_key(source_database: Path, target_database: Path) -> None:
    """Copy the pseudonymisation key of ``source_database`` (when it has one) beside ``target_database``,
    readable by its owner only."""
    key = pseudonym_key_file(source_database)
    if not key.is_file():
        return
    target = pseudonym_key_file(target_database)
    partial = target.with_name(f".{target.name}{PARTIAL_MARK}{os.getpid()}")
    try:
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(key.read_bytes())
        replace_durably(partial, target)
    except OSError as exc:
        raise BackupError(f"writing {target} failed: {exc.strerror or exc}") from None
    finally:
        partial.unlink(missing_ok=True)


def backup(
    warehouse: Path, destination: Path, force: bool = False, on_wait: Callable[[str], None] | None = None
) -> Copied:
    """Copy ``warehouse``, checkpointed, to ``destination`` while no writer runs.

    Refuses a missing warehouse, an existing ``destination`` unless ``force``, a destination that
    is a folder, the warehouse itself, or in a folder that does not exist. ``on_wait`` hears
    about a run the backup waits for.
    """
    started = time.monotonic()
    warehouse, destination = Path(warehouse).resolve(), Path(destination).resolve()
    if not warehouse.is_file():
        raise BackupError(f"no warehouse at {warehouse} (run `spm run` first, or pass --warehouse)")
    if destination in (warehouse, _wal(warehouse)):
        raise BackupError(f"{destination} is the warehouse itself; name another file")
    _check_target(destination, force, "backup")
    try:
        with warehouse_write_lock(warehouse, on_wait=on_wait):
            try:
                checkpoint(warehouse)
            except duckdb.Error as exc:
                raise BackupError(f"cannot checkpoint {warehouse}: {str(exc).strip().splitlines()[0]}") from None
            if _wal(warehouse).exists() and _wal(warehouse).stat().st_size > 0:
                raise BackupError(f"{_wal(warehouse)} is not empty after the checkpoint; nothing was copied")
            tables = _copy_into_place(warehouse, destination)
            _copy_key(warehouse, destination)
    except WarehouseBusyError as exc:
        raise BackupError(str(exc)) from None
    return Copied(destination, destination.stat().st_size, tables, time.monotonic() - started)


def restore(
    source: Path,
    warehouse: Path,
    force: bool = False,
    on_wait: Callable[[str], None] | None = None,
    working_folders: Iterable[Path] = (),
) -> Copied:
    """Put the backup ``source`` in place of ``warehouse`` while no writer runs.

    Refuses a ``source`` that is missing, not a DuckDB file or has a ``.wal`` beside it (not a
    backup `spm backup` made), and an existing ``warehouse`` unless ``force``. Once the backup
    is in place, ``working_folders`` (state kept beside the replaced warehouse) are removed.
    """
    started = time.monotonic()
    source, warehouse = Path(source).resolve(), Path(warehouse).resolve()
    if not source.is_file():
        raise BackupError(f"no backup at {source}")
    if source == warehouse:
        raise BackupError(f"{source} is the warehouse itself; name the backup file")
    if _wal(source).exists() and _wal(source).stat().st_size > 0:
        raise BackupError(f"{source} has a .wal beside it: not a complete backup (make one with `spm backup`)")
    _tables(source)
    _check_target(warehouse, force, "warehouse")
    try:
        with warehouse_write_lock(warehouse, on_wait=on_wait):
            tables = _copy_into_place(source, warehouse)
            _copy_key(source, warehouse)
            for folder in working_folders:
                shutil.rmtree(folder, ignore_errors=True)
    except WarehouseBusyError as exc:
        raise BackupError(str(exc)) from None
    return Copied(warehouse, warehouse.stat().st_size, tables, time.monotonic() - started)
