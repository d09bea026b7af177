"""Reading ahead in a worker thread keeps the order, the errors and the early stop of a plain loop."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from ingestion.prefetch import prefetched


def test_items_arrive_in_order_and_are_produced_in_another_thread() -> None:
    producers: set[str] = set()

    def items() -> Iterator[int]:
        for number in range(50):
            producers.add(threading.current_thread().name)
            yield number

    assert list(prefetched(items(), ahead=3)) == list(range(50))
    assert producers == {"spm-prefetch"}


def test_an_error_is_raised_at_the_item_where_it_happened() -> None:
    def items() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("line 3 is bad")

    taken: list[int] = []
    with pytest.raises(ValueError, match="line 3 is bad"):
        for item in prefetched(items()):
            taken.append(item)
    assert taken == [1, 2]


def test_a_consumer_that_stops_early_stops_and_closes_the_producer() -> None:
    produced: list[int] = []
    closed_in: list[str] = []

    def items() -> Iterator[int]:
        try:
            for number in range(1000):
                produced.append(number)
                yield number
        finally:
            closed_in.append(threading.current_thread().name)

    reader = prefetched(items(), ahead=1)
    assert next(reader) == 0
    deadline = time.monotonic() + 60
    while len(produced) < 2 and time.monotonic() < deadline:  # the worker makes one item ahead...
        time.sleep(0.01)
    time.sleep(0.3)  # ...and, were it not bounded, would go on meanwhile (a busy machine only hides that)
    # the item taken and the one made ahead: no more are alive at once
    assert produced == [0, 1]
    reader.close()  # joins the worker
    assert closed_in == ["spm-prefetch"]
    assert not any(t.name == "spm-prefetch" for t in threading.enumerate())


def test_reading_ahead_needs_at_least_one_item() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        next(prefetched(iter([1]), ahead=0))
