"""Bulk readers that turn landing files into Arrow tables without a Python loop over rows.

On bad input the fast path fails; only then is the file scanned line by line to say exactly
which line and field is wrong.
"""

from __future__ import annotations

import contextlib
import json
import mmap
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.json as pjson

from ingestion.errors import IngestionError

_BLOCK_SIZE = 16 << 20
#: Bytes of a JSONL file parsed at a time by :func:`iter_jsonl` (whole lines, so a little more).
JSONL_CHUNK_BYTES = 128 << 20
_COLUMN_IN_MESSAGE = re.compile(r"Column\((/[^)]*)\)")


def read_jsonl(path: Path, schema: pa.Schema, required: Sequence[str] = ()) -> pa.Table:
    """Read a newline-delimited JSON file against ``schema``, whole.

    Fields not in the schema are kept with inferred types (a new CRM property becomes a new raw
    column); a known field whose JSON type changes is an error. ``required`` are dotted paths
    that must be present and non-null on every line.
    """
    path = Path(path)
    if path.stat().st_size == 0:
        return schema.empty_table()
    table = _parse_jsonl(path, str(path), schema)
    check_required(table, required, path, first_line=1)
    return table


def iter_jsonl(
    path: Path, schema: pa.Schema, required: Sequence[str] = (), chunk_bytes: int | None = None
) -> Iterator[tuple[int, pa.Table]]:
    """Read a JSONL file in blocks of whole lines of about ``chunk_bytes`` (default
    :data:`JSONL_CHUNK_BYTES`): ``(first line, table)``.

    The same rules as :func:`read_jsonl`, but only one block is held in memory, so a file of
    millions of records costs the memory of one block. Each block infers new fields on its own;
    a field whose type differs between blocks stops the load at dlt's schema contract. An error
    names the line within the whole file.
    """
    path = Path(path)
    chunk_bytes = chunk_bytes or JSONL_CHUNK_BYTES
    first_line = 1
    if path.stat().st_size:
        # Mapped, not read: the parser takes the blocks straight from the page cache (a read()
        # copied every byte once more, 0.3 s per million calls).
        with path.open("rb") as handle:
            mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            start, size = 0, len(mapped)
            while start < size:
                end = min(start + chunk_bytes, size)
                if end < size:
                    # Cut after the block's last whole line; a line longer than a block is read
                    # to its end instead.
                    cut = mapped.rfind(b"\n", start, end) + 1
                    end = cut if cut > start else _line_end(mapped, end)
                table = _parse_block(path, mapped, start, end, schema)
                start = end
                if table.num_rows:
                    check_required(table, required, path, first_line=first_line)
                    yield first_line, table
                # Lines are numbered by record, as read_jsonl does (blank lines are not records).
                first_line += table.num_rows
        finally:
            # After a parse error the error may still hold a view of the map: it is then
            # unmapped when the error is gone.
            with contextlib.suppress(BufferError):
                mapped.close()
    if first_line == 1:
        yield 1, schema.empty_table()  # a file without records still reaches the loader, as read_jsonl's does


def _line_end(mapped: mmap.mmap, position: int) -> int:
    """The offset just past the end of the line that holds ``position``."""
    newline = mapped.find(b"\n", position)
    return len(mapped) if newline < 0 else newline + 1


def _parse_block(path: Path, mapped: mmap.mmap, start: int, end: int, schema: pa.Schema) -> pa.Table:
    """Parse bytes ``start:end`` of a mapped file; the table owns its memory (not the map's).

    The block's pages are dropped from the process's resident memory afterwards (where the
    platform offers ``madvise``): a file's mapped pages would otherwise count in it until the
    file is closed (the page cache keeps them either way).
    """
    view = memoryview(mapped)[start:end]
    try:
        block = pa.py_buffer(view)
        # An all-ASCII block is valid UTF-8: checking that (20 ms per 128 MB) spares the full
        # validation of every string the reader made (40 ms per block, 3.4 s for the CRM at large).
        ascii_only = bool(np.frombuffer(block, dtype=np.uint8).max() < 0x80)
        table = _parse_jsonl(path, pa.BufferReader(block), schema, known_ascii=ascii_only)
    except BaseException:
        # The error's traceback still holds the block: the view goes when the error does.
        with contextlib.suppress(BufferError):
            view.release()
        raise
    del block
    view.release()  # the map can only be closed once no view of it is left
    if hasattr(mmap, "MADV_DONTNEED"):  # not on Windows
        page_start = start - start % mmap.PAGESIZE
        mapped.madvise(mmap.MADV_DONTNEED, page_start, end - page_start)
    return table


def _parse_jsonl(path: Path, source: str | pa.NativeFile, schema: pa.Schema, known_ascii: bool = False) -> pa.Table:
    """One bulk parse of JSON lines; on failure the file is scanned to locate the bad line.

    ``known_ascii``: the caller checked that the bytes are ASCII, so their text is valid UTF-8.
    """
    try:
        table = pjson.read_json(
            source,
            read_options=pjson.ReadOptions(block_size=_BLOCK_SIZE),
            parse_options=pjson.ParseOptions(
                explicit_schema=schema, unexpected_field_behavior="infer", newlines_in_values=False
            ),
        )
        # The JSON reader does not check that text is valid UTF-8; a full validation does.
        if not known_ascii:
            table.validate(full=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise _locate_jsonl_error(path, schema, str(exc)) from exc
    return table


def read_csv(path: Path, columns: Sequence[str], required: Sequence[str] = ()) -> pa.Table:
    """Read a CSV file with a header row; every column arrives as text (staging casts it).

    ``columns`` must all be in the header; extra columns are kept. ``required`` columns must
    have a value on every row.
    """
    path = Path(path)
    if path.stat().st_size == 0:
        raise IngestionError("empty file: a CSV export needs at least its header row", file=path)
    try:
        table = pcsv.read_csv(
            path,
            read_options=pcsv.ReadOptions(block_size=_BLOCK_SIZE),
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(columns, pa.string()),
                strings_can_be_null=True,
                include_missing_columns=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise _locate_csv_error(path, str(exc)) from exc
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise IngestionError(
            f"unknown layout: header lacks column(s) {missing}; found {table.column_names}",
            file=path,
            line=1,
            field=missing[0],
        )
    # Every column is text in raw: columns outside the documented list are cast too.
    table = table.cast(pa.schema([(name, pa.string()) for name in table.column_names]))
    check_required(table, required, path, first_line=2)
    return table


def read_json_document(path: Path) -> object:
    """Parse a small JSON document (BambooHR reports, pipelines) with a located error."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise IngestionError(f"not UTF-8 encoded ({exc.reason})", file=path, line=line) from exc
    if not text.strip():
        raise IngestionError("empty file: expected a JSON document", file=path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise IngestionError(f"malformed JSON: {exc.msg} (column {exc.colno})", file=path, line=exc.lineno) from exc


def check_required(table: pa.Table, required: Sequence[str], path: Path, first_line: int) -> None:
    """Raise on the first row where a required (dotted) field is missing or null."""
    for dotted in required:
        column = column_at(table, dotted)
        if column is None:
            if table.num_rows:
                raise IngestionError("missing required field", file=path, line=first_line, field=dotted)
            continue
        nulls = pc.is_null(column)
        if pc.any(nulls).as_py():
            row = int(np.flatnonzero(nulls.to_numpy(zero_copy_only=False))[0])
            raise IngestionError(
                "missing required field (absent or null)", file=path, line=first_line + row, field=dotted
            )


def column_at(table: pa.Table, dotted: str) -> pa.ChunkedArray | None:
    """The column at a dotted path into struct columns (``properties.amount``), or None."""
    head, *rest = dotted.split(".")
    if head not in table.column_names:
        return None
    column: pa.ChunkedArray = table.column(head)
    for name in rest:
        if not pa.types.is_struct(column.type) or column.type.get_field_index(name) < 0:
            return None
        column = pc.struct_field(column, name)
    return column


def _locate_jsonl_error(path: Path, schema: pa.Schema, message: str) -> IngestionError:
    """Scan the file to find the line (and field) behind a failed bulk parse."""
    field_match = _COLUMN_IN_MESSAGE.search(message)
    field_path = field_match.group(1).strip("/").split("/") if field_match else None
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                return IngestionError(f"not UTF-8 encoded ({exc.reason})", file=path, line=number)
            try:
                record = json.loads(text)
            except json.JSONDecodeError as exc:
                return IngestionError(f"malformed JSON: {exc.msg} (column {exc.colno})", file=path, line=number)
            if not isinstance(record, dict):
                return IngestionError(
                    f"unknown layout: expected one JSON object per line, found {type(record).__name__}",
                    file=path,
                    line=number,
                )
            # Arrow names the field in some messages ("column /properties/amount"), not in others
            # ("couldn't parse:7.5"): then every declared field of the line is checked.
            for path_to in [field_path] if field_path else _declared_paths(schema):
                value: object = record
                for key in path_to:
                    value = value.get(key) if isinstance(value, dict) else None
                expected = _type_at(schema, path_to)
                if value is not None and expected is not None and not _json_matches(value, expected):
                    return IngestionError(
                        f"type changed: expected {expected}, found {type(value).__name__} {value!r:.60}",
                        file=path,
                        line=number,
                        field=".".join(path_to),
                    )
    return IngestionError(f"could not be read: {message}", file=path, field=".".join(field_path or []) or None)


def _declared_paths(schema: pa.Schema) -> list[list[str]]:
    """The path of every declared field, nested struct fields included (``properties.amount``)."""
    paths: list[list[str]] = []

    def walk(fields: list[pa.Field], prefix: list[str]) -> None:
        for field in fields:
            paths.append([*prefix, field.name])
            if pa.types.is_struct(field.type):
                walk(list(field.type), [*prefix, field.name])

    walk(list(schema), [])
    return paths


def _type_at(schema: pa.Schema, field_path: list[str]) -> pa.DataType | None:
    current: pa.DataType = pa.struct(list(schema))
    for key in field_path:
        if not pa.types.is_struct(current) or current.get_field_index(key) < 0:
            return None
        current = current.field(key).type
    return current


def _json_matches(value: object, expected: pa.DataType) -> bool:
    if pa.types.is_string(expected):
        return isinstance(value, str)
    if pa.types.is_boolean(expected):
        return isinstance(value, bool)
    if pa.types.is_integer(expected):
        return isinstance(value, int) and not isinstance(value, bool)
    if pa.types.is_struct(expected):
        return isinstance(value, dict)
    if pa.types.is_list(expected):
        return isinstance(value, list)
    return True


def _locate_csv_error(path: Path, message: str) -> IngestionError:
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return IngestionError(f"not UTF-8 encoded ({exc.reason})", file=path, line=line)
    row_match = re.search(r"[Rr]ow #?(\d+)", message)
    line = int(row_match.group(1)) if row_match else None
    return IngestionError(f"malformed CSV: {message.splitlines()[0]}", file=path, line=line)
