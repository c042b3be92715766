"""Running a lazy decoder on a worker thread, so its consumer can keep time."""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")


def in_background(items: Iterable[T], idle_s: float) -> Generator[T | None, None, None]:
    """``items``, produced on a worker thread; ``None`` whenever ``idle_s`` passes
    without one, so the caller can report progress (which renews a job's lease,
    notices cancellation) and keep its deadline during a long batch.

    An error in the worker is raised here. Closing the generator stops the
    worker after the item it is making and waits for it.
    """
    found: queue.Queue[tuple[str, Any]] = queue.Queue()
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                found.put(("item", item))
                if stop.is_set():
                    return
            found.put(("done", None))
        except Exception as exc:  # handed to the consumer, raised there
            found.put(("error", exc))

    worker = threading.Thread(target=produce, name="whisper-decode", daemon=True)
    worker.start()
    try:
        yield from _consume(found, idle_s)
    finally:
        stop.set()
        worker.join()


def _consume(found: queue.Queue[tuple[str, Any]], idle_s: float) -> Iterator[Any]:
    while True:
        try:
            kind, value = found.get(timeout=idle_s)
        except queue.Empty:
            yield None
            continue
        if kind == "error":
            raise value
        if kind == "done":
            return
        yield value
