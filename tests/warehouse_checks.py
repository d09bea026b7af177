"""Reading a warehouse in tests: row counts and content checksums per table."""

from __future__ import annotations

from pathlib import Path

import duckdb


def table_fingerprints(
    warehouse: Path, schemas: tuple[str, ...], exclude: tuple[str, ...] = ()
) -> dict[str, tuple[int, int]]:
    """(row count, order-independent checksum of content columns) for every table of ``schemas``.

    dlt bookkeeping columns (``_dlt_*``) are left out: they change with every load by design;
    so are ``exclude`` columns (e.g. ``_source_file`` when comparing loads of other batches).
    """
    result: dict[str, tuple[int, int]] = {}
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        tables = connection.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in (select unnest(?)) and table_name not like '\\_dlt%' escape '\\' "
            "order by 1, 2",
            [list(schemas)],
        ).fetchall()
        for schema, table in tables:
            columns = [
                row[0]
                for row in connection.execute(f'describe "{schema}"."{table}"').fetchall()
                if not row[0].startswith("_dlt") and row[0] not in exclude
            ]
            projection = ", ".join(f'"{c}"' for c in columns)
            count, checksum = connection.execute(
                f'select count(*), coalesce(bit_xor(hash({projection})), 0) from "{schema}"."{table}"'
            ).fetchone()
            result[f"{schema}.{table}"] = (int(count), int(checksum))
    return result


def count(warehouse: Path, relation: str) -> int:
    """Rows in one relation."""
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return int(connection.execute(f"select count(*) from {relation}").fetchone()[0])
