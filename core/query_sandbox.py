"""A read-only DuckDB connection that can read the warehouse's tables and nothing else.

`spm query` runs whatever SQL a user types. Opening the file read-only stops writes to the
warehouse, but DuckDB would still write files (``COPY ... TO``, ``EXPORT DATABASE``), read any
file the process may read (``read_text('/etc/passwd')``, ``read_csv``, ``ATTACH``) and download
and load extensions (``INSTALL httpfs``). The connection made here turns those off with DuckDB's
documented settings, before any statement runs, and locks the configuration so a ``SET`` cannot
turn them back on:

- ``enable_external_access = false``: no file system access beyond the database file already
  open, no ``ATTACH``, no extension loading;
- ``autoload_known_extensions`` / ``autoinstall_known_extensions = false``: a query never pulls an
  extension in by itself;
- ``lock_configuration = true``: every later ``SET``/``RESET``/``PRAGMA`` of a setting fails.

Each refused statement raises :class:`duckdb.PermissionException` (file access, extensions) or
:class:`duckdb.InvalidInputException` (a locked setting).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

#: DuckDB settings of a sandboxed connection (see the module docstring).
SANDBOX_CONFIG: dict[str, str | bool] = {
    "enable_external_access": False,
    "autoload_known_extensions": False,
    "autoinstall_known_extensions": False,
    "lock_configuration": True,
}


def connect_sandboxed(database: Path | str) -> duckdb.DuckDBPyConnection:
    """Open ``database`` read-only with files, other databases and extensions out of reach."""
    return duckdb.connect(str(database), read_only=True, config=dict(SANDBOX_CONFIG))


def is_refusal(error: duckdb.Error) -> bool:
    """Whether ``error`` is the sandbox refusing a statement (not a mistake in the SQL)."""
    if isinstance(error, duckdb.PermissionException):
        return True
    return isinstance(error, duckdb.InvalidInputException) and "configuration has been locked" in str(error)
