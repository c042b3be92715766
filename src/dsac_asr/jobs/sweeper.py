"""The sweeper: the periodic chores that keep jobs moving when a process dies.

A sweep is a list of steps (``SweepStep``), run one after the other; a step
that fails is logged and the next one still runs. ``sweep_steps`` builds the
standard list; add a step there to have every deployment run it:

- ``orphans``: a job whose worker died (or lost touch) stops having its lease
  renewed (or has it expired at once by the worker that saw its job slot die,
  ``jobs.slot_exits``); once the lease has expired, the job is queued again (a fresh message,
  then the job handed back to ``queued`` under no claim, which also fences the
  old claim). Redis redelivers an unacknowledged message only after its
  visibility timeout (hours), and the embedded queue may lose one in a crash:
  this is what brings an orphaned job back within about two lease periods.
  Duplicate messages are harmless: a worker runs a job only if it can claim it.
- ``callbacks``: the callbacks of the outbox that are pending and due are
  delivered (``jobs.callback_sender.deliver_due``; needs the object store and the
  callback settings), whoever wrote them, even after every process was killed.

The sweeper runs in ``dsac-asr serve``, in every ``dsac-asr worker`` and on its
own as ``dsac-asr sweeper`` (and as the AWS stack's scheduled function); the
processes sharing a database take turns (``JobStore.take_sweep_turn``), so one
sweep runs per interval however many there are.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from dsac_asr.errors import DsacError
from dsac_asr.jobs.callback_sender import CallbackSettings, deliver_due
from dsac_asr.jobs.holders import process_holder
from dsac_asr.jobs.store import JobStore
from dsac_asr.storage.base import ObjectStore

log = logging.getLogger(__name__)
SWEEP_NAME = "main"
Enqueue = Callable[[str], None]


@dataclass(frozen=True)
class SweepStep:
    """One chore of a sweep: ``run`` does it once and returns the ids it acted on."""

    name: str
    run: Callable[[], Sequence[str]]


def requeue_orphans(store: JobStore, enqueue: Enqueue) -> list[str]:
    """Queue again every running job whose lease expired; their ids.

    The message goes first and the job is handed back after, so a broker that is
    down loses nothing: the job stays an orphan and the next sweep tries again.
    """
    requeued = []
    for job in store.expired_leases():
        enqueue(job.id)
        store.requeue_expired(job.id, job.lease_id or "")
        requeued.append(job.id)
    return requeued


def requeue_queued(store: JobStore, enqueue: Enqueue) -> list[str]:
    """Queue a message for every queued job (at start: the embedded queue may have
    lost messages in a crash); their ids."""
    job_ids = store.queued_ids()
    for job_id in job_ids:
        enqueue(job_id)
    return job_ids


def sweep_steps(
    store: JobStore,
    enqueue: Enqueue,
    objects: ObjectStore | None = None,
    callbacks: CallbackSettings | None = None,
) -> list[SweepStep]:
    """The standard sweep, in order (callbacks when given the objects and settings)."""
    steps = [SweepStep("orphans", lambda: requeue_orphans(store, enqueue))]
    if objects is not None and callbacks is not None:
        steps.append(SweepStep("callbacks", lambda: deliver_due(store, objects, callbacks)))
    return steps


class Sweeper:
    """Runs ``steps`` every ``interval_s``, taking turns with the other processes on
    the same database (``sweep_if_due``), in a background thread or in the foreground."""

    def __init__(self, store: JobStore, steps: Sequence[SweepStep], interval_s: float) -> None:
        self.store, self.steps, self.interval_s = store, list(steps), interval_s
        self.holder = process_holder()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self.run, name="sweeper", daemon=True)

    def sweep(self) -> dict[str, list[str]]:
        """Run every step now (whoever's turn it is); what each one acted on."""
        done: dict[str, list[str]] = {}
        for step in self.steps:
            try:
                done[step.name] = list(step.run())
            except DsacError as exc:
                log.warning("sweep step %s failed: %s", step.name, exc.message)
            except Exception:  # a sweeper that dies silently is worse than a noisy one
                log.exception("sweep step %s failed", step.name)
            if done.get(step.name):
                log.info("sweep %s: %s", step.name, ", ".join(done[step.name]))
        return done

    def sweep_if_due(self) -> dict[str, list[str]] | None:
        """Sweep if it is this process's turn; None when another process has it."""
        try:
            if not self.store.take_sweep_turn(SWEEP_NAME, self.interval_s, self.holder):
                return None
        except DsacError as exc:
            log.warning("sweeper: cannot reach the job store: %s", exc.message)
            return None
        return self.sweep()

    def run(self) -> None:
        """Sweep whenever due until ``stop`` (looks twice per interval)."""
        while not self._stopped.is_set():
            try:
                self.sweep_if_due()
            except Exception:  # keep sweeping: the next turn may work
                log.exception("sweep failed")
            self._stopped.wait(self.interval_s / 2)

    def start(self) -> None:
        """Run in a background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop sweeping (the current sweep finishes)."""
        self._stopped.set()
