"""Reading ahead in a worker thread keeps the order, the errors and the early stop of a plain loop."""

from __future__ import annotations

import threading
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


def test_a_consumer_that_stops_early_stops_the_producer() -> None:
    produced: list[int] = []

    def items() -> Iterator[int]:
        for number in range(1000):
            produced.append(number)
            yield number

    reader = prefetched(items(), ahead=1)
    assert next(reader) == 0
    reader.close()  # joins the worker
    # at most the item taken, the one waiting in the hand-over and the one being handed over
    assert len(produced) <= 3
    assert not any(t.name == "spm-prefetch" for t in threading.enumerate())
