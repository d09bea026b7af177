"""Read ahead: the next block of a file is parsed while the loader writes the current one.

A landing file is read block by block: parse (pyarrow's JSON reader, on all cores), split off
rejects, then dlt writes the rows to a load file on one core. Run one after the other, the
cores idle while dlt writes; at the large scale the CRM extract used 1.4 of 2 cores. Parsing
in a worker thread lets the two overlap. Arrow releases the GIL in its kernels, so the thread
runs beside the loader's own work.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

_DONE = object()
_POLL_SECONDS = 0.1


class _Failed:
    """An exception raised by the producer, handed to the consumer to raise."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


def prefetched(items: Iterable[T], ahead: int = 1) -> Iterator[T]:
    """Yield the items of ``items``, produced in a worker thread up to ``ahead`` items early.

    An exception in the producer is raised in the consumer, at the item where it happened. If
    the consumer stops early (closes the generator), the producer stops after the item it is on.
    Items are held in memory until taken: ``ahead`` bounds the extra memory to that many items.
    """
    handoff: queue.Queue[object] = queue.Queue(maxsize=ahead)
    stop = threading.Event()

    def hand_over(item: object) -> bool:
        """Put ``item`` for the consumer; False when the consumer has gone."""
        while not stop.is_set():
            try:
                handoff.put(item, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not hand_over(item):
                    return
        except BaseException as error:  # handed over, raised by the consumer
            hand_over(_Failed(error))
            return
        hand_over(_DONE)

    worker = threading.Thread(target=produce, name="spm-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = handoff.get()
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        worker.join()
