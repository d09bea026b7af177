"""The vectorised Arrow helpers."""

import pyarrow as pa
import pytest

from ingestion.arrow_tools import strictly_increasing


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (pa.array([], pa.string()), True),
        (pa.array(["7"]), True),
        (pa.array(["100000001", "100000002", "100000010"]), True),
        (pa.chunked_array([["a", "b"], ["c"], ["d", "e"]]), True),
        (pa.chunked_array([["a", "b"], ["b"]]), False),  # a repeat across chunks
        (pa.array(["2", "10"]), False),  # text order, not numeric
        (pa.array([1, 2, 3], pa.int64()), True),
        (pa.array(["a", None, "c"]), False),  # a null is never known to be distinct
        (pa.array([None], pa.string()), False),
    ],
)
def test_strictly_increasing(values: pa.Array | pa.ChunkedArray, expected: bool) -> None:
    assert strictly_increasing(values) is expected
