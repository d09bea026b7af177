"""The published tables as Parquet files, for pandas, Spark, Power BI and the like.

``<folder>/<schema>/<table>.parquet``, one file per table, read from the serving file (so the
Parquet copy holds exactly what was published). Each file is written under a temporary name and
moved into place with one rename: a reader opens either the previous file or the new one, never
a half-written one. Tables no longer published (say, the survey answers once they are switched
off) have their file removed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from serving.publish import INFO_SCHEMA, PARTIAL_MARK, PUBLISHED_SCHEMAS, PublishError


@dataclass(frozen=True)
class ParquetFile:
    """One table written as Parquet."""

    table: str
    path: Path
    rows: int


def export_parquet(serving: Path, folder: Path) -> list[ParquetFile]:
    """Write every table of the serving file ``serving`` to ``folder`` as Parquet."""
    folder = Path(folder).resolve()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PublishError(f"cannot write Parquet into {folder}: {exc.strerror}") from None
    written: list[ParquetFile] = []
    connection = duckdb.connect(str(serving), read_only=True)
    try:
        tables = connection.execute(
            f"select table_schema, table_name, row_count from {INFO_SCHEMA}.tables order by 1, 2"
        ).fetchall()
        for schema, name, rows in tables:
            target = folder / schema / f"{name}.parquet"
            target.parent.mkdir(exist_ok=True)
            partial = target.with_name(f"{target.name}{PARTIAL_MARK}{os.getpid()}")
            try:
                connection.execute(f'copy "{schema}"."{name}" to \'{partial}\' (format parquet, compression zstd)')
            except duckdb.Error as exc:
                partial.unlink(missing_ok=True)
                raise PublishError(f"writing {target} failed: {str(exc).splitlines()[0]}") from None
            os.replace(partial, target)
            written.append(ParquetFile(f"{schema}.{name}", target, int(rows)))
    finally:
        connection.close()
    _remove_unpublished(folder, {file.path for file in written})
    return written


def _remove_unpublished(folder: Path, kept: set[Path]) -> None:
    """Remove Parquet files (and leftovers of killed exports) of tables no longer published."""
    for schema in PUBLISHED_SCHEMAS:
        for path in (folder / schema).glob("*.parquet*"):
            if path not in kept:
                path.unlink(missing_ok=True)
