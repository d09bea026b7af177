"""Validation results in the warehouse (schema ``quality``) and each suite's load cursor.

``quality.suite_validations`` has one row per suite run, ``quality.expectation_results`` one row
per expectation of it. A ``scope: load`` suite validates the rows loaded after the newest load it
validated *successfully* (no critical failure): rows that failed stay in scope until a later load
corrects them, so a rerun cannot wave bad data through. A ``scope: table`` validation records the
digest of its inputs; when the next one finds the same digest it records the same results again,
naming the validation that computed them (``reused_validation_id``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple

import duckdb

if TYPE_CHECKING:
    from expectations.suites import Suite

SCHEMA = "quality"

_DDL = f"""
create schema if not exists {SCHEMA};
create table if not exists {SCHEMA}.suite_validations (
    validation_id varchar not null,
    suite varchar not null,
    suite_version integer not null,
    asset varchar not null,
    run_id varchar,
    validated_at timestamp not null,
    scope varchar not null,
    after_load_id varchar,
    through_load_id varchar,
    rows_evaluated bigint not null,
    expectations integer not null,
    failed_critical integer not null,
    failed_warning integer not null,
    success boolean not null
);
create table if not exists {SCHEMA}.expectation_results (
    validation_id varchar not null,
    suite varchar not null,
    expectation_type varchar not null,
    summary varchar,
    severity varchar not null,
    success boolean not null,
    element_count bigint,
    unexpected_count bigint,
    unexpected_percent double,
    examples varchar
);
alter table {SCHEMA}.suite_validations add column if not exists inputs_digest varchar;
alter table {SCHEMA}.suite_validations add column if not exists reused_validation_id varchar;
alter table {SCHEMA}.suite_validations add column if not exists blocks_finance boolean;
"""


def replace_catalog(connection: duckdb.DuckDBPyConnection, suites: Iterable[Suite]) -> None:
    """``quality.suites``: the suites of ``expectations/`` as they are now (name, version, whether a
    failure blocks finance, file, raw tables), replaced whole. The finance gate reads the latest
    validation of the suites listed here, so a suite renamed, removed or no longer blocking stops
    holding finance back."""
    rows = [
        (
            s.name,
            s.version,
            s.blocks_finance,
            f"expectations/{s.path.name}",
            ", ".join(".".join(t) for t in s.raw_tables),
        )
        for s in suites
    ]
    connection.execute("begin transaction")
    try:
        connection.execute(
            f"create or replace table {SCHEMA}.suites (suite varchar not null, suite_version integer not null, "
            "blocks_finance boolean not null, suite_file varchar not null, raw_tables varchar not null)"
        )
        if rows:
            connection.executemany(f"insert into {SCHEMA}.suites values (?, ?, ?, ?, ?)", rows)
        connection.execute("commit")
    except Exception:
        connection.execute("rollback")
        raise


def ensure_tables(connection: duckdb.DuckDBPyConnection) -> None:
    """Create the quality schema and its tables if they do not exist yet."""
    connection.execute(_DDL)


def last_passing_load(connection: duckdb.DuckDBPyConnection, suite: str) -> str | None:
    """The newest load id a successful validation of ``suite`` covered, or None."""
    row = connection.execute(
        f"select through_load_id from {SCHEMA}.suite_validations "
        "where suite = ? and success and through_load_id is not null "
        "order by validated_at desc, through_load_id desc limit 1",
        [suite],
    ).fetchone()
    return row[0] if row else None


class StoredValidation(NamedTuple):
    """The validation whose results a validation on unchanged inputs repeats."""

    validation_id: str
    rows_evaluated: int


class StoredResult(NamedTuple):
    """One expectation's recorded result."""

    type: str
    summary: str | None
    severity: str
    success: bool
    element_count: int | None
    unexpected_count: int | None
    unexpected_percent: float | None
    examples: str | None


def unchanged_validation(
    connection: duckdb.DuckDBPyConnection, suite: str, version: int, digest: str
) -> StoredValidation | None:
    """The latest validation of ``suite`` when it was made on inputs with this ``digest`` by the same
    suite version: the validation that computed its results (itself, or the one it repeated)."""
    row = connection.execute(
        f"select coalesce(reused_validation_id, validation_id), rows_evaluated, inputs_digest, suite_version "
        f"from {SCHEMA}.suite_validations where suite = ? order by validated_at desc limit 1",
        [suite],
    ).fetchone()
    if row is None or row[2] != digest or row[3] != version:
        return None
    return StoredValidation(row[0], int(row[1]))


def expectation_results(connection: duckdb.DuckDBPyConnection, validation_id: str) -> list[StoredResult]:
    """The expectation results recorded for ``validation_id``."""
    rows = connection.execute(
        "select expectation_type, summary, severity, success, element_count, unexpected_count, "
        f"unexpected_percent, examples from {SCHEMA}.expectation_results where validation_id = ?",
        [validation_id],
    ).fetchall()
    return [StoredResult(*row) for row in rows]


def record(connection: duckdb.DuckDBPyConnection, validation: dict, expectations: list[dict]) -> None:
    """Append one validation and its expectation results, in one transaction."""
    connection.execute("begin transaction")
    try:
        columns = list(validation)
        connection.execute(
            f"insert into {SCHEMA}.suite_validations ({', '.join(columns)}) values ({', '.join('?' for _ in columns)})",
            [validation[c] for c in columns],
        )
        if expectations:
            names = list(expectations[0])
            connection.executemany(
                f"insert into {SCHEMA}.expectation_results ({', '.join(names)}) "
                f"values ({', '.join('?' for _ in names)})",
                [[row[n] for n in names] for row in expectations],
            )
        connection.execute("commit")
    except Exception:
        connection.execute("rollback")
        raise
