"""Short recognitions of several callers, run together as one batch.

Each member of a ``RecognitionPool`` (one thread each, e.g. one job each)
gets engines whose ``recognize`` hands a short clip to the pool and waits.
When every member is waiting (or finished), or the first waiting one has
waited ``gather_s``, one of them runs the waiting clips: those for the same
engine and request in one ``recognize_many``, where clips of members with the
same share key (e.g. one tenant's jobs) may share windows. Each caller gets its own
segments, its own progress calls and its own errors: when a batch fails, its
clips are recognised one by one, so that a bad clip fails alone.

Clips longer than ``short_s``, and engines without ``recognize_many``, are
recognised alone, one at a time, without holding the batch back.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from types import TracebackType

import numpy as np
import numpy.typing as npt

from dsac_asr.engines import EngineLoader, EngineOptions
from dsac_asr.engines.base import (
    BatchRecognizer,
    Engine,
    ProgressCallback,
    RecognitionRequest,
    RecognizedSegment,
)
from dsac_asr.models.manifest import InstalledModel

SHORT_S = 30.0
GATHER_S = 2.0
IDLE_S = 1.0


@dataclass
class _Call:
    """One clip handed to the pool, and what became of it."""

    engine: BatchRecognizer
    samples: npt.NDArray[np.float32]
    request: RecognitionRequest
    on_progress: ProgressCallback | None
    share: str | None = None
    since: float = field(default_factory=time.monotonic)
    result: list[RecognizedSegment] | None = None
    error: BaseException | None = None
    done: bool = False

    def report(self, fraction: float) -> None:
        """Pass progress on; an error there (e.g. the job was cancelled) is kept for the caller."""
        if self.on_progress is None or self.error is not None:
            return
        try:
            self.on_progress(fraction)
        except Exception as exc:  # raised in the caller's thread, not the batch's
            self.error = exc


class RecognitionPool:
    """Gathers its members' short recognitions into batches (thread-safe)."""

    def __init__(self, gather_s: float = GATHER_S, short_s: float = SHORT_S) -> None:
        self.gather_s, self.short_s = gather_s, short_s
        self._changed = threading.Condition()
        self._busy = 0  # members neither waiting in the pool nor gone
        self._waiting: list[_Call] = []
        self._running = False
        self._solo = threading.Lock()

    def member(self, load: EngineLoader, share: str | None = None) -> PoolMember:
        """A new member, loading its engines with ``load``, its clips sharing windows
        with those of members with the same ``share`` key; leave the pool when done."""
        self._count_busy(1)
        return PoolMember(self, load, share)

    def _count_busy(self, change: int) -> None:
        with self._changed:
            self._busy += change
            self._changed.notify_all()

    def recognize_alone(
        self,
        engine: Engine,
        samples: npt.NDArray[np.float32],
        request: RecognitionRequest,
        on_progress: ProgressCallback | None,
    ) -> list[RecognizedSegment]:
        """Recognise a clip on its own (one at a time); meanwhile the pool does not wait
        for it. Waiting for its turn, it reports no progress every ``IDLE_S`` (which
        renews a job's lease and notices its cancellation)."""
        self._count_busy(-1)
        try:
            while not self._solo.acquire(timeout=IDLE_S):
                if on_progress is not None:
                    on_progress(0.0)
            try:
                return engine.recognize(samples, request, on_progress)
            finally:
                self._solo.release()
        finally:
            self._count_busy(1)

    def recognize(self, call: _Call) -> list[RecognizedSegment]:
        """Wait for ``call`` to be recognised in a batch (perhaps run by this thread)."""
        with self._changed:
            self._busy -= 1
            self._waiting.append(call)
            self._changed.notify_all()
            while not call.done:
                if self._running or not self._ready():
                    self._changed.wait(timeout=self._wait_s())
                    continue
                self._run_waiting()
            self._busy += 1
        if call.error is not None:
            raise call.error
        return call.result or []

    def _ready(self) -> bool:
        if not self._waiting:
            return False
        return self._busy == 0 or time.monotonic() - self._waiting[0].since >= self.gather_s

    def _wait_s(self) -> float:
        oldest = self._waiting[0].since if self._waiting else time.monotonic()
        return max(0.01, oldest + self.gather_s - time.monotonic())

    def _run_waiting(self) -> None:
        """Take the waiting calls and run them with the lock released (called holding it)."""
        calls, self._waiting, self._running = self._waiting, [], True
        self._changed.release()
        try:
            for group in _groups(calls):
                _run_group(group)
        finally:
            self._changed.acquire()
            for call in calls:
                call.done = True
            self._running = False
            self._changed.notify_all()


class PoolMember:
    """One caller of a pool: its engines recognise short clips together with the others'."""

    def __init__(self, pool: RecognitionPool, load: EngineLoader, share: str | None) -> None:
        self.pool, self._load, self.share = pool, load, share
        self._left = False

    def engine(self, model: InstalledModel, options: EngineOptions) -> Engine:
        """The engine for ``model`` (as ``load`` gives it), recognising through the pool."""
        return _PooledEngine(self._load(model, options), self.pool, self.share)

    def leave(self) -> None:
        """Stop taking part: the pool no longer waits for this member."""
        if not self._left:
            self._left = True
            self.pool._count_busy(-1)

    def __enter__(self) -> PoolMember:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.leave()


class _PooledEngine:
    """An engine whose short clips are recognised in the pool's batches."""

    def __init__(self, engine: Engine, pool: RecognitionPool, share: str | None) -> None:
        self.engine, self.pool, self.share = engine, pool, share
        self.sample_rate_hz = engine.sample_rate_hz

    def recognize(
        self,
        samples: npt.NDArray[np.float32],
        request: RecognitionRequest,
        on_progress: ProgressCallback | None = None,
    ) -> list[RecognizedSegment]:
        """Recognise ``samples``: in a batch when short and the engine batches, else alone."""
        short = len(samples) <= self.pool.short_s * self.sample_rate_hz
        if not short or not isinstance(self.engine, BatchRecognizer):
            return self.pool.recognize_alone(self.engine, samples, request, on_progress)
        return self.pool.recognize(_Call(self.engine, samples, request, on_progress, self.share))


def _groups(calls: list[_Call]) -> list[list[_Call]]:
    """Calls for the same engine and request, those with the same share key next to each other."""
    groups: dict[tuple[int, RecognitionRequest], list[_Call]] = {}
    for call in sorted(calls, key=lambda c: (c.share is None, c.share or "")):
        groups.setdefault((id(call.engine), call.request), []).append(call)
    return list(groups.values())


def _run_group(calls: list[_Call]) -> None:
    """One ``recognize_many`` for the calls; if it fails, each call on its own."""
    engine, request = calls[0].engine, calls[0].request

    def report(fraction: float) -> None:
        for call in calls:
            call.report(fraction)

    try:
        clips, share = [c.samples for c in calls], [c.share for c in calls]
        results = engine.recognize_many(clips, request, report, share)
    except Exception as exc:
        if len(calls) == 1:
            calls[0].error = calls[0].error or exc
            return
        for call in calls:
            _run_one(call)
        return
    for call, result in zip(calls, results, strict=True):
        call.result = result


def _run_one(call: _Call) -> None:
    try:
        call.result = call.engine.recognize_many([call.samples], call.request, call.report)[0]
    except Exception as exc:
        call.error = call.error or exc
