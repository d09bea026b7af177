"""A cursor on the dataset of the pipeline being extracted, for reads the readers make of it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import dlt


@contextmanager
def dataset_cursor() -> Iterator[tuple[Any, Any]]:
    """``(sql client, cursor)`` of the running pipeline's destination; the cursor is our own, so
    dlt's connection state is left alone, and it is closed on leaving."""
    with dlt.current.pipeline().sql_client() as client:
        cursor = client.native_connection.cursor()
        try:
            yield client, cursor
        finally:
            cursor.close()
