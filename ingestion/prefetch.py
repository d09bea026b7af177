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

    The worker starts on an item only when fewer than ``ahead`` are made and not yet taken, so
    at most ``ahead + 1`` items are alive at once: the one the consumer holds and those made
    ahead. An exception in the producer is raised in the consumer, at the item where it
    happened. If the consumer stops early (closes the generator), the producer stops after the
    item it is on and ``items`` is closed in the worker.
    """
    if ahead < 1:
        raise ValueError(f"ahead must be at least 1, got {ahead}")
    handoff: queue.SimpleQueue[object] = queue.SimpleQueue()
    slots = threading.Semaphore(ahead)
    stop = threading.Event()

    def take_slot() -> bool:
        """Wait until an item may be made; False when the consumer has gone."""
        while not stop.is_set():
            if slots.acquire(timeout=_POLL_SECONDS):
                return True
        return False

    def produce() -> None:
        iterator = iter(items)
        try:
            while take_slot():
                try:
                    item = next(iterator)
                except StopIteration:
                    handoff.put(_DONE)
                    return
                handoff.put(item)
        except BaseException as error:  # handed over, raised by the consumer
            handoff.put(_Failed(error))
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()  # an early stop releases the producer's files here, not at garbage collection

    worker = threading.Thread(target=produce, name="spm-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = _next_item(handoff, worker)
            slots.release()
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        worker.join()


def _next_item(handoff: queue.SimpleQueue[object], worker: threading.Thread) -> object:
    """The next item handed over; an error if the worker ended without handing one over."""
    while True:
        try:
            return handoff.get(timeout=_POLL_SECONDS)
        except queue.Empty:
            if not worker.is_alive() and handoff.empty():
                raise RuntimeError("the read-ahead worker ended without handing over its items") from None
