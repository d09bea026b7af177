"""Serialising writers of one warehouse file across processes, and waiting for its readers.

DuckDB admits one writing process per file. Inside one Dagster run the steps share a pool of
size one; the OS lock on ``<warehouse>.lock`` also covers a second run (UI, schedule, `spm run`)
started at the same time: it waits its turn instead of failing on DuckDB's file lock, and says
what it waits for.

Processes outside that protocol hold DuckDB's own file lock: a BI tool or notebook with the
warehouse open, even read-only, keeps every writer out. Once it holds the OS lock, a writer
therefore also waits until DuckDB's lock can be taken, logging the holder DuckDB names (program
and PID), and gives up with :class:`WarehouseBusyError` after ``SPM_WAREHOUSE_LOCK_TIMEOUT_S``
seconds (default 600).

Every writer ends with a ``CHECKPOINT`` before it lets the lock go (:func:`checkpoint`): DuckDB
keeps recent changes in ``<warehouse>.wal`` until a checkpoint moves them into the file, so
without it a copy of the ``.duckdb`` file alone could lack the latest marts. Since each step of
a run and of a close writes under this lock, every run, close and reopen ends checkpointed, and
a copy taken under the lock (`spm backup`) is the whole warehouse.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

#: Environment variable: seconds a writer waits for another process to close the warehouse file.
LOCK_TIMEOUT_ENV = "SPM_WAREHOUSE_LOCK_TIMEOUT_S"
DEFAULT_FILE_LOCK_TIMEOUT_S = 600.0
#: While it waits, the writer repeats its log line this often (seconds).
_REPEAT_LOG_S = 30.0
_DUCKDB_LOCK_ERROR = re.compile(r"Could not set lock on file")
_DUCKDB_HOLDER = re.compile(
    r"Conflicting lock is held in (?P<program>.+?) \(PID (?P<pid>\d+)\)(?: by user (?P<user>\S+))?"
)


log = logging.getLogger(__name__)


class WarehouseBusyError(RuntimeError):
    """Another process kept the warehouse locked for longer than we were willing to wait."""


@contextmanager
def warehouse_write_lock(
    warehouse: Path,
    timeout_s: float = 3600.0,
    on_wait: Callable[[str], None] | None = None,
    file_lock_timeout_s: float | None = None,
) -> Iterator[None]:
    """Hold ``<warehouse>.lock`` exclusively while the block writes the warehouse.

    ``timeout_s`` bounds the wait for another writer (our own OS lock); once that is held,
    :func:`wait_for_file_lock` waits up to ``file_lock_timeout_s`` (default: the environment's
    ``SPM_WAREHOUSE_LOCK_TIMEOUT_S``) for any other process to close the DuckDB file. When the
    block ends, normally or with an error, the warehouse is checkpointed (:func:`checkpoint`)
    before the lock is released; a checkpoint that fails is logged (``on_wait`` and the module's
    logger), not raised: what the block committed is safe in the WAL, and the next writer's
    checkpoint moves it in.
    """
    lock_path = Path(f"{warehouse}.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a+") as handle:
        deadline = time.monotonic() + timeout_s
        announced = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not announced and on_wait is not None:
                    on_wait(f"waiting for another process writing {warehouse} (lock {lock_path})")
                    announced = True
                if time.monotonic() > deadline:
                    raise WarehouseBusyError(
                        f"{warehouse} stayed locked by another writer for {timeout_s:.0f} s ({lock_path})"
                    ) from None
                time.sleep(0.5)
        try:
            wait_for_file_lock(warehouse, file_lock_timeout_s, on_wait)
            try:
                yield
            finally:
                _checkpoint_logged(warehouse, on_wait)
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def checkpoint(warehouse: Path) -> None:
    """Move everything in ``<warehouse>.wal`` into the warehouse file (DuckDB's ``CHECKPOINT``).

    The caller holds :func:`warehouse_write_lock` (or knows no other process has the file open).
    A missing warehouse is left missing; DuckDB's errors are raised.
    """
    if not Path(warehouse).is_file():
        return
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("checkpoint")


def _checkpoint_logged(warehouse: Path, on_wait: Callable[[str], None] | None) -> None:
    """:func:`checkpoint`, a failure logged instead of raised (see :func:`warehouse_write_lock`)."""
    try:
        checkpoint(warehouse)
    except duckdb.Error as exc:
        message = f"could not checkpoint {warehouse} (its .wal keeps the changes): {str(exc).splitlines()[0]}"
        log.warning(message)
        if on_wait is not None:
            on_wait(message)


def file_lock_timeout() -> float:
    """Seconds to wait for DuckDB's file lock: ``SPM_WAREHOUSE_LOCK_TIMEOUT_S`` or 600."""
    text = os.environ.get(LOCK_TIMEOUT_ENV, "").strip()
    if not text:
        return DEFAULT_FILE_LOCK_TIMEOUT_S
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:  # also rejects nan
        raise ValueError(f"{LOCK_TIMEOUT_ENV} must be a number of seconds >= 0, not {text!r}")
    return value


def wait_for_file_lock(
    warehouse: Path,
    timeout_s: float | None = None,
    on_wait: Callable[[str], None] | None = None,
    poll_s: float = 0.5,
) -> None:
    """Return once this process could open ``warehouse`` for writing (DuckDB's file lock is free).

    The probe opens and closes a read-write connection; while DuckDB reports a conflicting lock
    it logs the holder through ``on_wait`` (at once, then every 30 s) and retries every
    ``poll_s`` seconds. After ``timeout_s`` (default :func:`file_lock_timeout`) it raises
    :class:`WarehouseBusyError` naming the file and the holder. A missing file has no holder;
    any other error of the probe is left for the writer itself to meet.
    """
    warehouse = Path(warehouse)
    timeout_s = file_lock_timeout() if timeout_s is None else timeout_s
    started = time.monotonic()
    holder: str | None = None
    logged_at: float | None = None
    while warehouse.exists():
        try:
            duckdb.connect(str(warehouse)).close()
        except duckdb.Error as exc:
            if not _DUCKDB_LOCK_ERROR.search(str(exc)):
                return
            holder = describe_holder(str(exc))
        else:
            if holder is not None and on_wait is not None:
                on_wait(f"{warehouse} was released by {holder} after {time.monotonic() - started:.1f} s; writing")
            return
        waited = time.monotonic() - started
        if waited >= timeout_s:
            raise WarehouseBusyError(
                f"{warehouse} is held open by {holder}; gave up after waiting {timeout_s:g} s. Close that "
                f"connection (a BI tool or notebook?) or raise {LOCK_TIMEOUT_ENV}."
            )
        if on_wait is not None and (logged_at is None or waited - logged_at >= _REPEAT_LOG_S):
            on_wait(
                f"{warehouse} is open in another process ({holder}), e.g. a BI tool or notebook; "
                f"waiting up to {timeout_s:g} s ({LOCK_TIMEOUT_ENV}) for it to close"
            )
            logged_at = waited
        time.sleep(max(0.0, min(poll_s, timeout_s - waited)))


def describe_holder(message: str) -> str:
    """The process DuckDB names in a lock error (``PID 123, /usr/bin/python3``), else the error."""
    match = _DUCKDB_HOLDER.search(message)
    if match is None:
        return f"another process ({message.splitlines()[0]})"
    user = f", user {match['user']}" if match["user"] else ""
    return f"PID {match['pid']}, {match['program']}{user}"
