"""Publishing the BI-facing tables into a serving database that BI tools can open.

BI tools never open the warehouse itself: DuckDB admits one writing process per file, so a tool
holding the warehouse open would keep every run out, and a DuckDB file has no per-user grants.
After every run (and every period close or reopen) the tables BI users may read are copied into
a separate file, ``serving.duckdb`` by default:

- written in DuckDB's storage format ``v1.1.0`` (:data:`STORAGE_VERSION`), which DuckDB 1.1 and
  every later version open, so the DuckDB drivers BI tools ship (which lag DuckDB's releases)
  can read it;
- built beside the current file under a temporary name and moved into place with one rename: a
  reader never sees a half-written file, a reader that has the old file open keeps reading it
  (the old file lives on until its last reader closes it), and a publish killed half-way leaves
  the previous file complete (the next publish removes the leftover);
- holding the schemas ``marts`` (what BI tools and finance read), ``rejects`` (rows the loads
  and models set aside, with the reason) and ``quality`` (the suites' results), minus what BI
  users must not read: the survey answers one by one (``marts.fct_survey_responses``) unless
  ``survey_answers`` is set, the rejected rows of the HRIS and survey sources, and the example
  values of the HRIS and survey suites' failed expectations;
- with what the run validated: a table whose dbt test failed with severity ``error`` in the run
  keeps the copy the previous publish made (when there is one). The finance marts need no such
  care: a failed finance gate keeps them in the warehouse as they were, and they are copied so.

``serving_info.tables`` in the serving file lists every table, its rows and whether it is this
publish's copy or the previous one; ``serving_info.publication`` says when and from which run.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from core import settings
from core.durable_files import replace_durably

#: DuckDB's storage format of the serving file: DuckDB 1.1.0 and later read it.
STORAGE_VERSION = "v1.1.0"
#: The oldest DuckDB the serving file is tested with (``tests/serving``); the README names it.
OLDEST_TESTED_DUCKDB = "1.1.3"
#: Schemas published, in this order.
PUBLISHED_SCHEMAS = ("marts", "rejects", "quality")
#: The survey answers one by one: published only when asked for.
SURVEY_ANSWERS = ("marts", "fct_survey_responses")
#: Never published: raw rows of confidential sources, set aside by the loads or the models.
NEVER_PUBLISHED = frozenset(
    {
        ("rejects", "rejects_hris__employees"),
        ("rejects", "rejects_surveys__answers"),
        ("rejects", "rejects_surveys__responses"),
    }
)
#: Suites over confidential sources: their failed expectations are published without examples.
CONFIDENTIAL_SUITE_ASSETS = ("staging/stg_hris__", "staging/stg_surveys__")
#: Schema of the serving file that describes the publication itself.
INFO_SCHEMA = "serving_info"
#: Room asked for beyond the estimate of the new file (MiB, ``SPM_PUBLISH_HEADROOM_MB``).
DEFAULT_HEADROOM_MB = 64
#: Name part of a serving file being written; a leftover of a killed publish is removed.
PARTIAL_MARK = ".publishing-"


class PublishError(RuntimeError):
    """The publish could not be made; the previous serving file is untouched."""


@dataclass(frozen=True)
class PublishedTable:
    """One table of the serving file."""

    schema: str
    name: str
    rows: int
    origin: str  # "this publish" or "previous publish"
    reason: str = ""

    @property
    def qualified(self) -> str:
        """``schema.name``."""
        return f"{self.schema}.{self.name}"


@dataclass
class Publication:
    """What a publish wrote."""

    path: Path
    tables: list[PublishedTable] = field(default_factory=list)
    seconds: float = 0.0
    bytes: int = 0
    withheld: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        """Rows over every published table."""
        return sum(table.rows for table in self.tables)


def headroom_bytes() -> int:
    """Room asked for beyond the estimated size of the new file (``SPM_PUBLISH_HEADROOM_MB``)."""
    text = os.environ.get("SPM_PUBLISH_HEADROOM_MB", "").strip()
    try:
        megabytes = float(text) if text else DEFAULT_HEADROOM_MB
    except ValueError:
        raise PublishError(f"SPM_PUBLISH_HEADROOM_MB must be a number of MiB, not {text!r}") from None
    return int(megabytes * 1024 * 1024)


def _quoted(*parts: str) -> str:
    return ".".join('"' + part.replace('"', '""') + '"' for part in parts)


def publishable_tables(
    connection: duckdb.DuckDBPyConnection, catalog: str, survey_answers: bool = False
) -> list[tuple[str, str]]:
    """The tables and views of the attached warehouse ``catalog`` to publish, as (schema, name)."""
    rows = connection.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_catalog = ? and table_schema in (select unnest(?)) order by 1, 2",
        [catalog, list(PUBLISHED_SCHEMAS)],
    ).fetchall()
    chosen = []
    for schema, name in rows:
        if (schema, name) in NEVER_PUBLISHED or ((schema, name) == SURVEY_ANSWERS and not survey_answers):
            continue
        if name.startswith("dlt_") or name.startswith("_"):
            continue
        chosen.append((schema, name))
    return sorted(chosen, key=lambda item: (PUBLISHED_SCHEMAS.index(item[0]), item[1]))


def _select_sql(schema: str, name: str, catalog: str, columns: list[str]) -> str:
    """The query that copies one table; confidential examples are left out."""
    source = f"{_quoted(catalog, schema, name)}"
    if (schema, name) == ("quality", "expectation_results") and "examples" in columns:
        confidential = " or ".join(f"v.asset like '{prefix}%'" for prefix in CONFIDENTIAL_SUITE_ASSETS)
        listed = ", ".join(
            (
                f"case when exists (select 1 from {_quoted(catalog, 'quality', 'suite_validations')} v "
                f"where v.validation_id = r.validation_id and ({confidential})) then null else r.examples end "
                "as examples"
            )
            if column == "examples"
            else f"r.{_quoted(column)}"
            for column in columns
        )
        return f"select {listed} from {source} r"
    return f"select {', '.join(_quoted(column) for column in columns)} from {source}"


def _columns(connection: duckdb.DuckDBPyConnection, catalog: str, schema: str, name: str) -> list[str]:
    rows = connection.execute(
        "select column_name from information_schema.columns where table_catalog = ? and table_schema = ? "
        "and table_name = ? order by ordinal_position",
        [catalog, schema, name],
    ).fetchall()
    return [row[0] for row in rows]


def remove_partial_files(serving: Path) -> list[Path]:
    """Remove what killed publishes left beside ``serving`` (``<name>.publishing-*``); return them."""
    removed = []
    for leftover in serving.parent.glob(f"{serving.name}{PARTIAL_MARK}*"):
        leftover.unlink(missing_ok=True)
        removed.append(leftover)
    return removed


def _estimate_bytes(warehouse: Path, serving: Path) -> int:
    """Size the new file may take: the previous serving file's plus a fifth, else the
    warehouse's used blocks (the serving file holds a subset of its tables)."""
    if serving.exists():
        return int(serving.stat().st_size * 1.2)
    return warehouse.stat().st_size if warehouse.exists() else 0


def check_room(folder: Path, needed: int, free: int | None = None) -> None:
    """Raise :class:`PublishError` naming ``folder`` when it has less than ``needed`` bytes free."""
    free = shutil.disk_usage(folder).free if free is None else free
    if free < needed:
        raise PublishError(
            f"no room to publish in {folder}: {needed / 2**20:,.0f} MiB needed for the new serving file, "
            f"{free / 2**20:,.0f} MiB free; the previous serving file is unchanged"
        )


def publish(
    warehouse: Path,
    serving: Path,
    *,
    survey_answers: bool = False,
    held_back: Iterable[str] = (),
    run_id: str = "",
    on_table: Callable[[PublishedTable], None] | None = None,
) -> Publication:
    """Copy the BI-facing tables of ``warehouse`` into ``serving``; the caller keeps writers out
    of the warehouse meanwhile (:func:`core.warehouse_lock.warehouse_write_lock`).

    ``held_back`` names tables (``schema.name``) this run did not validate: they keep the
    previous serving file's copy, or are left out when it has none. ``on_table`` is called after
    each table is copied. The new file replaces the old one only once it is complete.
    """
    started = time.monotonic()
    serving = Path(serving).resolve()
    warehouse = Path(warehouse).resolve()
    serving.parent.mkdir(parents=True, exist_ok=True)
    remove_partial_files(serving)
    check_room(serving.parent, _estimate_bytes(warehouse, serving) + headroom_bytes())
    held = set(held_back)
    partial = serving.with_name(f"{serving.name}{PARTIAL_MARK}{os.getpid()}")
    publication = Publication(serving)
    catalog = "spm_warehouse"
    connection = duckdb.connect(config=settings.duckdb_config())
    try:
        connection.execute(f"attach '{warehouse}' as {catalog} (read_only)")
        connection.execute(f"attach '{partial}' as spm_serving (storage_version '{STORAGE_VERSION}')")
        previous = _attach_previous(connection, serving) if held else ""
        try:
            for schema in (*PUBLISHED_SCHEMAS, INFO_SCHEMA):
                connection.execute(f"create schema spm_serving.{_quoted(schema)}")
            for schema, name in publishable_tables(connection, catalog, survey_answers):
                table = _copy_table(connection, catalog, previous, schema, name, f"{schema}.{name}" in held)
                if table is None:
                    publication.withheld.append(f"{schema}.{name}")
                    continue
                publication.tables.append(table)
                if on_table is not None:
                    on_table(table)
            _write_info(connection, publication, warehouse, run_id)
            connection.execute("checkpoint spm_serving")
        finally:
            connection.execute("detach spm_serving")
            if previous:
                connection.execute(f"detach {previous}")
        replace_durably(partial, serving)
    except duckdb.Error as exc:
        partial.unlink(missing_ok=True)
        Path(f"{partial}.wal").unlink(missing_ok=True)
        first = str(exc).splitlines()[0]
        if "No space left" in str(exc):
            raise PublishError(
                f"no room to publish in {serving.parent}: {first}; the previous serving file is unchanged"
            ) from None
        raise PublishError(f"publishing {serving} failed: {first}; the previous serving file is unchanged") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        connection.close()
    publication.bytes = serving.stat().st_size
    publication.seconds = time.monotonic() - started
    return publication


def _attach_previous(connection: duckdb.DuckDBPyConnection, serving: Path) -> str:
    """Attach the current serving file read-only (for held-back tables); '' when there is none."""
    if not serving.exists():
        return ""
    try:
        connection.execute(f"attach '{serving}' as spm_previous (read_only)")
    except duckdb.Error:
        return ""  # unreadable: nothing can be kept from it
    return "spm_previous"


def _copy_table(
    connection: duckdb.DuckDBPyConnection, catalog: str, previous: str, schema: str, name: str, held: bool
) -> PublishedTable | None:
    target = _quoted("spm_serving", schema, name)
    if held:
        columns = _columns(connection, previous, schema, name) if previous else []
        if not columns:
            return None
        connection.execute(f"create table {target} as {_select_sql(schema, name, previous, columns)}")
        origin, reason = "previous publish", "a dbt test of severity error failed in this run"
    else:
        columns = _columns(connection, catalog, schema, name)
        connection.execute(f"create table {target} as {_select_sql(schema, name, catalog, columns)}")
        origin, reason = "this publish", ""
    rows = connection.execute(f"select count(*) from {target}").fetchone()[0]
    return PublishedTable(schema, name, int(rows), origin, reason)


def _write_info(connection: duckdb.DuckDBPyConnection, publication: Publication, warehouse: Path, run_id: str) -> None:
    info = _quoted("spm_serving", INFO_SCHEMA)
    connection.execute(
        f"create table {info}.tables (table_schema varchar, table_name varchar, row_count bigint, "
        "origin varchar, reason varchar)"
    )
    if publication.tables:
        connection.executemany(
            f"insert into {info}.tables values (?, ?, ?, ?, ?)",
            [[t.schema, t.name, t.rows, t.origin, t.reason] for t in publication.tables],
        )
    connection.execute(
        f"create table {info}.publication (published_at timestamp, run_id varchar, warehouse varchar, "
        "storage_version varchar, withheld varchar)"
    )
    connection.execute(
        f"insert into {info}.publication values (cast(now() at time zone 'UTC' as timestamp), ?, ?, ?, ?)",
        [run_id, str(warehouse), STORAGE_VERSION, json.dumps(publication.withheld)],
    )
