"""Rows that cannot be loaded are kept, with a reason, in a rejects table beside their entity.

A merge table needs a key on every row and one content per key and version. A line without
its key (or without ``updatedAt``, which orders versions), or two lines of one file with the
same key and ``updatedAt`` but different content, cannot be merged without losing or
inventing data. Such rows go to ``<entity>_rejected`` with the reason, the field, the source
file and line and the original record as JSON; the rest of the file loads as usual.

Vectorised: the common case (no missing key, no repeated key) costs two Arrow kernels; only
the few offending rows are turned into Python objects.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import dlt
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from dlt.sources import DltResource

from ingestion.arrow_readers import column_at
from ingestion.arrow_tools import strictly_increasing
from ingestion.resource_hints import MERGE

#: Columns of every ``<entity>_rejected`` raw table (all text but the line number).
REJECT_SCHEMA = pa.schema(
    [
        ("record_id", pa.string()),
        ("reason", pa.string()),
        ("field", pa.string()),
        ("record", pa.string()),
        ("_source_file", pa.string(), False),
        ("_source_line", pa.int64(), False),
        ("rejected_at", pa.string()),
    ]
)

#: Name of the line-number column added to a file's table before rows are split off.
LINE_COLUMN = "_source_line"


@dataclass(frozen=True)
class Split:
    """A file's (or API page's) rows split into those to load and those rejected."""

    rows: pa.Table
    rejected: pa.Table


def rejects_table_name(entity: str) -> str:
    """Raw table that holds the rejected rows of ``entity``."""
    return f"{entity}_rejected"


def with_line_numbers(table: pa.Table, first: int = 1) -> pa.Table:
    """Append the 1-based line (or record) number of each row, before any row is dropped."""
    lines = pa.array(np.arange(first, first + table.num_rows, dtype=np.int64))
    return table.append_column(LINE_COLUMN, lines)


def split_rejects(table: pa.Table, *, key: str, version: str | None, required: Sequence[str], source: str) -> Split:
    """Split off rows missing a ``required`` (dotted) field and rows that conflict on ``key``.

    ``table`` must carry :data:`LINE_COLUMN`. A conflict is the same ``key`` and ``version``
    (e.g. ``updatedAt``) with different content; exact repeats are harmless and stay (the merge
    keeps one). Rows of one key with different versions are history, not conflicts.
    """
    n = table.num_rows
    reasons: list[tuple[int, str, str]] = []  # (row index, reason, field)
    missing = np.zeros(n, dtype=bool)
    for dotted in required:
        column = column_at(table, dotted)
        nulls = np.ones(n, dtype=bool) if column is None else _null_mask(column)
        for row in np.flatnonzero(nulls & ~missing):
            reasons.append((int(row), "missing required field (absent or null)", dotted))
        missing |= nulls
    conflicts = _conflicting_rows(table, key, version, ~missing)
    for row in conflicts:
        reasons.append((row, f"duplicate {key} with different content in the same file and {version}", key))
    if not reasons:
        return Split(table, REJECT_SCHEMA.empty_table())
    rejected_rows = sorted(reasons)
    keep = np.ones(n, dtype=bool)
    keep[[row for row, _, _ in rejected_rows]] = False
    return Split(table.filter(pa.array(keep)), _reject_table(table, rejected_rows, key, source))


def _null_mask(column: pa.ChunkedArray) -> np.ndarray:
    nulls = pc.is_null(column)
    if pa.types.is_string(column.type):
        nulls = pc.or_(nulls, pc.equal(pc.utf8_trim_whitespace(column), ""))
    return np.asarray(pc.fill_null(nulls, True).to_numpy(zero_copy_only=False), dtype=bool)


def _conflicting_rows(table: pa.Table, key: str, version: str | None, eligible: np.ndarray) -> list[int]:
    """Rows whose key (and version) repeats within the table with a different content."""
    keys = table.column(key)
    if strictly_increasing(keys) or pc.count_distinct(keys).as_py() == pc.count(keys).as_py():
        return []  # the usual case: every key once (in id order, as exports are paged)
    group_columns = [key] if version is None else [key, version]
    indexed = table.select(group_columns).append_column("_row", pa.array(np.arange(table.num_rows)))
    indexed = indexed.filter(pa.array(eligible))
    counts = indexed.group_by(group_columns).aggregate([("_row", "list")])
    repeated = counts.filter(pc.greater(pc.list_value_length(counts.column("_row_list")), 1))
    content_columns = [c for c in table.column_names if c != LINE_COLUMN]
    conflicting: list[int] = []
    for rows in repeated.column("_row_list").to_pylist():
        contents = table.take(pa.array(rows)).select(content_columns).to_pylist()
        if any(content != contents[0] for content in contents[1:]):
            conflicting += rows
    return conflicting


class EarlierBlocks:
    """The keys and versions of the blocks of one file read so far (large files are read in blocks).

    :func:`split_rejects` compares repeated lines within a block. A line that repeats the key and
    version of a line in an earlier block cannot be compared with it any more (that block has
    gone to the loader), so it is rejected, naming the earlier line, which stays loaded. Nothing
    is lost, and the merge is never left to pick between two contents.
    """

    def __init__(self, key: str, version: str) -> None:
        self.key, self.version = key, version
        self._origin: str | None = None
        self._seen: list[pa.Table] = []  # per block: key, version and line of its loaded rows
        # Lowest and highest key (as text) of the earlier blocks. An export paged by id, as
        # HubSpot's list endpoints page, gives each block keys beyond the earlier ones: a block
        # whose keys lie outside that range cannot repeat one, and is not probed (0.1 s per
        # million calls). Ids are compared as text: within a file whose ids change digit count
        # ("99999" to "100000") the ranges overlap and blocks are probed as before.
        self._range: tuple[str, str] | None = None

    def check(self, origin: str, split: Split) -> Split:
        """``split`` (one block of ``origin``) without the lines that repeat an earlier block's."""
        if origin != self._origin:
            self._origin, self._seen, self._range = origin, [], None
        rows = split.rows
        keys = rows.column(self.key).cast(pa.string()).combine_chunks()
        versions = rows.column(self.version).cast(pa.string()).combine_chunks()
        block_range = _text_range(keys)
        if self._seen and rows.num_rows and _overlap(block_range, self._range):
            # Probe the earlier keys against this block's (the smaller hash table); only on a hit
            # is the block probed against the few earlier keys that matched.
            earlier = pa.concat_tables(self._seen).column("k")
            hits = earlier.filter(pc.is_in(earlier, value_set=keys))
            known = np.zeros(rows.num_rows, dtype=bool)
            if len(hits):
                known = np.asarray(
                    pc.is_in(keys, value_set=hits.combine_chunks()).to_numpy(zero_copy_only=False), dtype=bool
                )
            if known.any():
                split, keep = self._reject_repeats(origin, split, keys, versions, np.flatnonzero(known))
                keys, versions = keys.filter(keep), versions.filter(keep)
        self._seen.append(pa.table({"k": keys, "v": versions, "line": split.rows.column(LINE_COLUMN)}))
        self._range = _union(self._range, block_range)
        return split

    def _reject_repeats(
        self, origin: str, split: Split, keys: pa.Array, versions: pa.Array, candidates: np.ndarray
    ) -> tuple[Split, pa.Array]:
        rows = split.rows
        incoming = pa.table({"k": keys.take(candidates), "v": versions.take(candidates), "row": candidates})
        earlier = pa.concat_tables(self._seen).group_by(["k", "v"]).aggregate([("line", "min")])
        repeats = incoming.join(earlier, keys=["k", "v"], join_type="inner").sort_by("row")
        keep = np.ones(rows.num_rows, dtype=bool)
        if not repeats.num_rows:
            return split, pa.array(keep)
        reasons = [
            (
                row,
                f"repeats the {self.key} and {self.version} of line {line} of the same file, loaded from an "
                "earlier block of the file; lines in different blocks are not compared, this one is kept here",
                self.key,
            )
            for row, line in zip(repeats.column("row").to_pylist(), repeats.column("line_min").to_pylist(), strict=True)
        ]
        keep[[row for row, _, _ in reasons]] = False
        rejected = pa.concat_tables([split.rejected, _reject_table(rows, reasons, self.key, origin)])
        return Split(rows.filter(pa.array(keep)), rejected), pa.array(keep)


def _text_range(keys: pa.Array) -> tuple[str, str] | None:
    """The lowest and highest of ``keys`` in text order, or None when there is no key."""
    low_high = pc.min_max(keys)
    low, high = low_high["min"].as_py(), low_high["max"].as_py()
    return None if low is None else (low, high)


def _overlap(block: tuple[str, str] | None, earlier: tuple[str, str] | None) -> bool:
    """Whether two key ranges can share a key (no keys on either side: they cannot)."""
    if block is None or earlier is None:
        return False
    return block[0] <= earlier[1] and earlier[0] <= block[1]


def _union(a: tuple[str, str] | None, b: tuple[str, str] | None) -> tuple[str, str] | None:
    """The range covering both ranges."""
    if a is None or b is None:
        return a or b
    return min(a[0], b[0]), max(a[1], b[1])


def reject_rows(table: pa.Table, rows: Sequence[int], *, reason: str, field: str, key: str, source: str) -> pa.Table:
    """Reject rows (same layout as :func:`split_rejects` gives) for ``rows`` of ``table``, one reason."""
    return _reject_table(table, [(int(row), reason, field) for row in rows], key, source)


def _reject_table(table: pa.Table, rejected: list[tuple[int, str, str]], key: str, source: str) -> pa.Table:
    rows = [row for row, _, _ in rejected]
    records = table.take(pa.array(rows)).to_pylist()
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return pa.Table.from_pylist(
        [
            {
                "record_id": None if record.get(key) is None else str(record.get(key)),
                "reason": reason,
                "field": field,
                "record": json.dumps(
                    {k: v for k, v in record.items() if k != LINE_COLUMN}, default=str, sort_keys=True
                ),
                "_source_file": source,
                "_source_line": record[LINE_COLUMN],
                "rejected_at": now,
            }
            for record, (_, reason, field) in zip(records, rejected, strict=True)
        ],
        schema=REJECT_SCHEMA,
    )


def rejects_resource(entity: str, reader: DltResource) -> DltResource:
    """The transformer writing ``reader``'s rejected rows of ``entity``. Keyed by file and line, so
    a file delivered again does not list its rejects twice; the table exists from the first load
    on, empty when nothing was rejected."""

    def rejected(item: tuple[str, Split]) -> Iterator[pa.Table]:
        yield item[1].rejected

    return dlt.transformer(
        rejected,
        name=rejects_table_name(entity),
        data_from=reader,
        write_disposition=MERGE,
        primary_key=("_source_file", "_source_line"),
    )
