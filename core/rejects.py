"""The rows the loads and the models set aside (schema ``rejects``), counted by reason."""

from __future__ import annotations

import duckdb


def rejects_by_reason(connection: duckdb.DuckDBPyConnection) -> list[tuple[str, str, int, str]]:
    """(entity, reason, rows, first) of the ``rejects`` tables of ``connection``'s database (the
    warehouse, or the serving file, which publishes them); ``first`` names the record, file and
    line of the first such row (``record 512 at FILE:LINE``)."""
    views = [
        row[0]
        for row in connection.execute(
            "select table_name from information_schema.tables where table_schema = 'rejects' order by 1"
        ).fetchall()
    ]
    if not views:
        return []
    union = " union all ".join(
        f"select entity, reason, record_id, source_file, source_line from rejects.{view}" for view in views
    )
    located = (
        "'record ' || coalesce(record_id, '(no id)') || ' at ' || coalesce(source_file, '?')"
        " || coalesce(':' || source_line, '')"
    )
    rows = connection.execute(
        f"select entity, reason, count(*), first({located} order by source_file, source_line, record_id) "
        f"from ({union}) group by 1, 2 order by 3 desc, 1, 2"
    ).fetchall()
    return [(entity, reason, int(count), first) for entity, reason, count, first in rows]
