"""Puts orphaned jobs back on the queue: those whose worker died mid-job.

A job's lease expires when its worker stops heart-beating; the sweeper
re-enqueues such jobs, and at start also every queued job (the embedded
queue may have lost its message in a crash). Duplicate messages are
harmless: a worker runs a job only if it can claim it. Each sweep also
delivers the callbacks that are due (``callbacks.sender.deliver_due``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from dsac_asr.errors import DsacError
from dsac_asr.jobs.store import JobStore

log = logging.getLogger(__name__)


class OrphanSweeper:
    """Re-enqueues orphaned jobs now and every ``interval_s`` in a background thread."""

    def __init__(
        self,
        store: JobStore,
        enqueue: Callable[[str], None],
        interval_s: float,
        deliver_callbacks: Callable[[], Sequence[str]] | None = None,
    ) -> None:
        self.store, self.enqueue, self.interval_s = store, enqueue, interval_s
        self.deliver_callbacks = deliver_callbacks
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="orphan-sweeper", daemon=True)

    def requeue(self, *, include_queued: bool = False) -> list[str]:
        """Enqueue orphaned jobs once; return their ids."""
        job_ids = self.store.requeue_orphans(include_queued=include_queued)
        for job_id in job_ids:
            self.enqueue(job_id)
        if job_ids:
            log.info("re-enqueued %d jobs", len(job_ids))
        return job_ids

    def start(self) -> None:
        """Sweep every ``interval_s`` until ``stop``."""
        self._thread.start()

    def stop(self) -> None:
        """Stop sweeping."""
        self._stopped.set()

    def _loop(self) -> None:
        while not self._stopped.wait(self.interval_s):
            try:
                self.requeue()
            except DsacError as exc:
                log.warning("orphan sweep failed: %s", exc.message)
            self.send_callbacks()

    def send_callbacks(self) -> list[str]:
        """Deliver the callbacks that are due; the ids of the events tried."""
        if self.deliver_callbacks is None:
            return []
        try:
            return list(self.deliver_callbacks())
        except DsacError as exc:
            log.warning("callback sweep failed: %s", exc.message)
            return []
