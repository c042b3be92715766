"""Fenced claims in the worker's runner, on a real SQLite store and local object
store with a fake pipeline and a fake (slow) fetch: the heartbeat renews the lease
for the whole claim, and a claim that lost its job (its worker could not reach
the database while the lease ran out) stops and leaves the new claim's work alone."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dsac_asr.config import DEFAULT_INTERNAL_BUCKET
from dsac_asr.errors import TransientError
from dsac_asr.jobs import runner
from dsac_asr.jobs.model import Job, JobOptions, JobSource, JobStatus, SourceKind
from dsac_asr.jobs.runner import WorkerContext, result_key, run_job, transcript_key
from dsac_asr.jobs.store import JobStore
from dsac_asr.storage import LocalObjectStore
from dsac_asr.transcript import Segment, Transcript, Word

LEASE_S = 0.6


class FakePipeline:
    """Reports progress and answers with a transcript naming the worker."""

    def __init__(self, name: str) -> None:
        self.name, self.runs = name, 0

    def transcribe(self, path: Path, options: object, on_progress: object) -> Transcript:
        self.runs += 1
        on_progress(0.5)  # type: ignore[operator]
        word = Word(self.name, 0.1, 0.5, 0.9)
        return Transcript((Segment((word,), self.name),), "eng", self.name, 3.0, {})


class Cut(JobStore):
    """The same database, seen by a worker that can no longer reach it for heartbeats."""

    cut = False

    def heartbeat(self, job_id: str, lease_id: str, progress: float, lease_s: float) -> bool:
        if self.cut:
            raise TransientError("job store unavailable: connection refused")
        return super().heartbeat(job_id, lease_id, progress, lease_s)


class Gate:
    """Holds whoever passes until opened; tells the test that someone is waiting."""

    def __init__(self) -> None:
        self.waiting, self.opened = threading.Event(), threading.Event()

    def __call__(self) -> None:
        self.waiting.set()
        assert self.opened.wait(30), "the gate was never opened"


class SlowObjects(LocalObjectStore):
    """A local object store whose writes wait at a gate (a slow upload)."""

    def __init__(self, root: Path, gate: Gate) -> None:
        super().__init__(root)
        self.gate, self.writes = gate, 0

    def put_bytes(self, bucket: str, key: str, data: bytes, content_type: str) -> None:
        self.gate()
        self.writes += 1
        super().put_bytes(bucket, key, data, content_type)


@pytest.fixture
def fetch_gates(monkeypatch: pytest.MonkeyPatch) -> dict[str, Gate]:
    """A fake fetch: the audio "downloads" until the worker's gate opens (no gate: at once)."""
    gates: dict[str, Gate] = {}

    def fetch(job: Job, objects: object, folder: Path, *args: object, **kw: object) -> Path:
        gate = gates.get(threading.current_thread().name)
        if gate is not None:
            gate()
        target = folder / "input.wav"
        target.write_bytes(b"RIFF....")
        return target

    monkeypatch.setattr(runner, "fetch_input", fetch)
    return gates


def _context(store: JobStore, root: Path, name: str) -> WorkerContext:
    objects = LocalObjectStore(root / "objects")
    pipeline = FakePipeline(name)
    return WorkerContext(store, objects, pipeline, root / f"tmp-{name}", lease_s=LEASE_S)  # type: ignore[arg-type]


def _queued_job(store: JobStore) -> None:
    tenant = store.create_tenant("acme", ["media"])
    source = JobSource(SourceKind.URL, "media", url="https://example.org/a.wav")
    job = Job("j1", tenant.id, JobStatus.QUEUED, source, JobOptions(), datetime.now(UTC))
    store.create_job(job)


def _in_thread(name: str, ctx: WorkerContext) -> tuple[threading.Thread, list[object]]:
    outcome: list[object] = []
    thread = threading.Thread(target=lambda: outcome.append(run_job("j1", ctx)), name=name)
    thread.start()
    return thread, outcome


def _results(root: Path) -> list[str]:
    """Every object written, as ``bucket/key`` (the result, the internal transcript)."""
    objects = root / "objects"
    return sorted(str(p.relative_to(objects)) for p in objects.rglob("*") if p.is_file())


RESULTS = [f"{DEFAULT_INTERNAL_BUCKET}/{transcript_key('j1')}", f"media/{result_key('j1')}"]


def test_the_heartbeat_keeps_the_lease_through_a_slow_download(
    store: JobStore, tmp_path: Path, fetch_gates: dict[str, Gate]
) -> None:
    _queued_job(store)
    fetch_gates["a"] = Gate()
    thread, outcome = _in_thread("a", _context(store, tmp_path, "a"))
    assert fetch_gates["a"].waiting.wait(10)
    time.sleep(4 * LEASE_S)  # no progress report all this time
    assert store.expired_leases() == []
    assert store.claim("j1", LEASE_S) is None  # still held: nobody else may take it
    fetch_gates["a"].opened.set()
    thread.join(30)
    assert outcome == [JobStatus.SUCCEEDED]
    assert store.get_job("j1", None).attempts == 1


def test_a_claim_lost_during_a_slow_download_stops_and_writes_nothing(
    store: JobStore, tmp_path: Path, fetch_gates: dict[str, Gate]
) -> None:
    _queued_job(store)
    cut = Cut(store.engine)
    first = _context(cut, tmp_path, "a")
    fetch_gates["a"] = Gate()
    thread, outcome = _in_thread("a", first)
    assert fetch_gates["a"].waiting.wait(10)
    cut.cut = True  # worker a loses the database; its lease runs out
    time.sleep(1.5 * LEASE_S)
    assert [job.id for job in store.expired_leases()] == ["j1"]
    second = _context(store, tmp_path, "b")
    assert run_job("j1", second) is JobStatus.SUCCEEDED
    done = store.get_job("j1", None)
    cut.cut = False  # a's database is back, then its download ends
    fetch_gates["a"].opened.set()
    thread.join(30)
    assert outcome == [JobStatus.CANCELLED]
    assert first.pipeline.runs == 0  # type: ignore[attr-defined]
    assert store.get_job("j1", None) == done
    assert (done.status, done.model_id, done.attempts) == (JobStatus.SUCCEEDED, "b", 2)
    assert _results(tmp_path) == RESULTS
    assert b"b" in second.objects.get_bytes("media", result_key("j1"))


def test_a_claim_lost_while_writing_its_result_deletes_nothing(
    store: JobStore, tmp_path: Path, fetch_gates: dict[str, Gate]
) -> None:
    _queued_job(store)
    cut, gate = Cut(store.engine), Gate()
    first = replace(_context(cut, tmp_path, "a"), objects=SlowObjects(tmp_path / "objects", gate))
    thread, outcome = _in_thread("a", first)
    assert gate.waiting.wait(10)  # a renewed its lease and is uploading its result
    cut.cut = True
    time.sleep(1.5 * LEASE_S)
    second = _context(store, tmp_path, "b")
    assert run_job("j1", second) is JobStatus.SUCCEEDED
    done = store.get_job("j1", None)
    cut.cut = False
    gate.opened.set()  # a's late upload ends; its success must change nothing
    thread.join(30)
    assert outcome == [JobStatus.CANCELLED]
    assert store.get_job("j1", None) == done and done.attempts == 2
    assert _results(tmp_path) == RESULTS
    assert second.objects.exists(second.internal_bucket, transcript_key("j1"))  # a's, in flight
    assert b"b" in second.objects.get_bytes("media", result_key("j1"))  # a wrote no more
    assert first.objects.writes == 1  # type: ignore[attr-defined]


def test_a_job_cancelled_during_a_slow_download_stops_there(
    store: JobStore, tmp_path: Path, fetch_gates: dict[str, Gate]
) -> None:
    _queued_job(store)
    ctx = _context(store, tmp_path, "a")
    fetch_gates["a"] = Gate()
    thread, outcome = _in_thread("a", ctx)
    assert fetch_gates["a"].waiting.wait(10)
    store.cancel("j1", store.get_job("j1", None).tenant_id)
    time.sleep(LEASE_S)  # the next renewal finds it cancelled
    fetch_gates["a"].opened.set()
    thread.join(30)
    assert outcome == [JobStatus.CANCELLED]
    assert ctx.pipeline.runs == 0  # type: ignore[attr-defined]
    assert _results(tmp_path) == []
