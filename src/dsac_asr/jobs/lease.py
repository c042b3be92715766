"""Keeping a claim alive: a heartbeat thread renews its lease for as long as it runs.

The lease is renewed whatever the claim is doing (downloading, loading a model,
diarising, writing results), not only when the pipeline reports progress. When a
renewal finds the claim lost (the job was cancelled, deleted, finished or taken
over by another claim after the lease ran out), or no renewal has succeeded for
a whole lease period, the claim is marked lost and the next progress report
stops the pipeline (``ClaimLost``).
"""

from __future__ import annotations

import logging
import threading
import time
from types import TracebackType

from dsac_asr.errors import TransientError
from dsac_asr.jobs.store import JobStore

log = logging.getLogger(__name__)
HEARTBEAT_EVERY_S = 1.0
"""Progress reaches the store at most this often."""


class JobCancelled(Exception):
    """Raised inside the pipeline's progress callback when the job was cancelled."""


class ClaimLost(JobCancelled):
    """The claim no longer holds its job: cancelled, deleted, or taken over by another."""


class LeaseKeeper:
    """Renews one claim's lease in a background thread; the pipeline's progress callback.

    Use as a context manager around everything the claim does. Progress is
    recorded when it changes (at most every ``HEARTBEAT_EVERY_S``); the lease is
    renewed at least every quarter of ``lease_s`` even when nothing progresses.
    """

    def __init__(self, store: JobStore, job_id: str, lease_id: str, lease_s: float) -> None:
        self.store, self.job_id, self.lease_id, self.lease_s = store, job_id, lease_id, lease_s
        self.progress = 0.0
        self._written = 0.0
        self._renewed_s = time.monotonic()
        self._lost = threading.Event()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"lease-{job_id}", daemon=True)

    @property
    def lost(self) -> bool:
        """Whether the claim was found lost."""
        return self._lost.is_set()

    def __call__(self, fraction: float) -> None:
        """Progress callback: note the fraction; raise ``ClaimLost`` once the claim is lost."""
        self.progress = max(self.progress, min(fraction, 0.99))
        self.check()

    def check(self) -> None:
        """Raise ``ClaimLost`` if the claim was found lost."""
        if self._lost.is_set():
            raise ClaimLost(self.job_id)

    def renew(self) -> None:
        """Renew the lease now (before writing results); ``ClaimLost`` if it is gone."""
        self.check()
        self._renew()
        self.check()

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stopped.set()
        self._thread.join(timeout=self.lease_s)

    def _beat(self) -> None:
        every_s = min(HEARTBEAT_EVERY_S, self.lease_s / 4)
        while not self._stopped.wait(every_s) and not self._lost.is_set():
            stale = time.monotonic() - self._renewed_s >= self.lease_s / 4
            if stale or self.progress != self._written:
                self._renew()

    def _renew(self) -> None:
        progress = self.progress
        try:
            held = self.store.heartbeat(self.job_id, self.lease_id, progress, self.lease_s)
        except TransientError as exc:
            if time.monotonic() - self._renewed_s >= self.lease_s:
                log.warning("job %s: lease not renewed for a whole period: %s", self.job_id, exc)
                self._lost.set()
            return
        except Exception:  # the thread must not die silently: treat it as lost
            log.exception("job %s: renewing the lease failed", self.job_id)
            self._lost.set()
            return
        if not held:
            log.info("job %s: no longer held by this claim", self.job_id)
            self._lost.set()
            return
        self._written, self._renewed_s = progress, time.monotonic()
