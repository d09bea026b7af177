"""Small vectorised Arrow helpers shared by the sources."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def first_per_parent(lists: pa.ChunkedArray | pa.Array, value: str, mask_field: str | None = None) -> pa.Array:
    """For a column of lists of structs, the ``value`` field of the first element of each list.

    With ``mask_field``, only elements whose boolean ``mask_field`` is true count. Rows with an
    empty or null list get null. Vectorised: no Python loop over rows.
    """
    if isinstance(lists, pa.ChunkedArray):
        lists = lists.combine_chunks()
    n = len(lists)
    flat = pc.list_flatten(lists)
    parents = pc.list_parent_indices(lists).to_numpy()
    if mask_field is not None and len(flat):
        keep = pc.fill_null(pc.struct_field(flat, mask_field), False).to_numpy(zero_copy_only=False)
        flat = flat.filter(pa.array(keep))
        parents = parents[keep]
    values = pc.struct_field(flat, value) if len(flat) else pa.nulls(0, lists.type.value_type.field(value).type)
    index = np.full(n, -1, dtype=np.int64)
    if len(parents):
        is_first = np.ones(len(parents), dtype=bool)
        is_first[1:] = parents[1:] != parents[:-1]
        index[parents[is_first]] = np.flatnonzero(is_first)
    return pc.take(values, pa.array(index, mask=index < 0))


def explode(lists: pa.ChunkedArray | pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Flatten a list column: the elements and, for each, the index of the row it came from."""
    if isinstance(lists, pa.ChunkedArray):
        lists = lists.combine_chunks()
    return pc.list_flatten(lists), pc.list_parent_indices(lists).to_numpy()


def constant(value: str, length: int) -> pa.Array:
    """A string column repeating one value (dictionary-encoded storage, cast to plain string)."""
    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(length, dtype=np.int32)), pa.array([value])).cast(
        pa.string()
    )


def line_numbers(length: int, first: int = 1) -> pa.Array:
    """1-based source line numbers for the rows of a file read in order."""
    return pa.array(np.arange(first, first + length, dtype=np.int64))


def non_nullable(table: pa.Table, columns: tuple[str, ...]) -> pa.Table:
    """Declare key columns NOT NULL in the schema (readers already checked them), matching dlt's hints."""
    fields = [f.with_nullable(False) if f.name in columns else f for f in table.schema]
    return table.cast(pa.schema(fields, metadata=table.schema.metadata))


def strictly_increasing(values: pa.Array | pa.ChunkedArray) -> bool:
    """Whether every value is greater than the one before it (so none repeats), with no nulls.

    An export paged by id lists its records in increasing id order: for such a column this
    answers "all distinct?" with one comparison per row instead of hashing every value (0.03 s
    against 4.9 s for Arrow's count_distinct of 6 M ids). False only means "not known".
    """
    if values.null_count:
        return False
    if len(values) < 2:
        return True
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    ordered = pc.all(pc.less(values.slice(0, len(values) - 1), values.slice(1)), skip_nulls=False)
    return bool(ordered.as_py())
