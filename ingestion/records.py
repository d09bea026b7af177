"""Turning small JSON/YAML documents (HRIS reports, plan files) into all-text Arrow tables."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path

import pyarrow as pa

from ingestion.arrow_tools import constant, non_nullable
from ingestion.errors import IngestionError


def as_text(value: object) -> str | None:
    """A scalar as the text a raw column stores (dates ISO, booleans lower-case)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, float):
        return str(Decimal(repr(value)))
    return str(value)


def text_table(
    records: Sequence[dict],
    columns: Sequence[str],
    *,
    file: Path | str,
    location: str,
    required: Iterable[str] = (),
) -> pa.Table:
    """An Arrow table of text columns from a list of dicts; documented ``columns`` first, then any
    extra keys (kept, not dropped). ``location`` names the list in the file for error messages."""
    required = tuple(required)
    extra: list[str] = []
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise IngestionError(
                f"unknown layout: expected an object, found {type(record).__name__}",
                file=file,
                field=f"{location}[{index}]",
            )
        for key in required:
            if record.get(key) in (None, ""):
                raise IngestionError("missing required field", file=file, field=f"{location}[{index}].{key}")
        for key in record:
            if key not in columns and key not in extra:
                extra.append(key)
    names = [*columns, *extra]
    data = {name: [as_text(record.get(name)) for record in records] for name in names}
    table = pa.table({name: pa.array(values, pa.string()) for name, values in data.items()})
    table = table.append_column("_source_file", constant(str(file), table.num_rows))
    return non_nullable(table, required[:1])
