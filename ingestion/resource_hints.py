"""Write dispositions and schema contracts shared by the raw resources."""

from __future__ import annotations

from typing import Any

#: Raw columns are text as the source sends them; a new column may appear (schema drift), but a
#: column whose type changes must stop the load instead of creating a variant column.
RAW_SCHEMA_CONTRACT: dict[str, str] = {"tables": "evolve", "columns": "evolve", "data_type": "freeze"}

MERGE: dict[str, str] = {"disposition": "merge", "strategy": "delete-insert"}


def latest_wins(cursor: str = "updated_at") -> dict[str, dict[str, Any]]:
    """Column hints so that, among versions of a record in one load, the newest is kept."""
    return {cursor: {"dedup_sort": "desc"}}
