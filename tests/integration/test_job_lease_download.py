"""The worker's lease through a slow download, on real parts: a loopback HTTP server
that sends the audio slowly, the egress-guarded download, the bundled Whisper
model, a SQLite store and a local object store. The heartbeat keeps the lease for
the whole claim; a worker that loses the database while downloading is taken over,
stops, and leaves the new claim's one result alone."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from http_servers import Handler, Received, serving

from dsac_asr.egress import EgressPolicy
from dsac_asr.errors import TransientError
from dsac_asr.jobs.model import Job, JobOptions, JobSource, JobStatus, SourceKind
from dsac_asr.jobs.runner import WorkerContext, result_key, run_job
from dsac_asr.jobs.store import JobStore
from dsac_asr.models.registry import ModelRegistry
from dsac_asr.pipeline import Pipeline
from dsac_asr.storage import LocalObjectStore

pytestmark = pytest.mark.integration
LEASE_S = 1.0
SLOW_S = 4 * LEASE_S


class Cut(JobStore):
    """The same database, seen by a worker that can no longer reach it for heartbeats."""

    cut = False

    def heartbeat(self, job_id: str, lease_id: str, progress: float, lease_s: float) -> bool:
        if self.cut:
            raise TransientError("job store unavailable: connection refused")
        return super().heartbeat(job_id, lease_id, progress, lease_s)


class SlowSource:
    """Serves the audio; the first request dribbles it out over ``SLOW_S`` seconds."""

    def __init__(self, audio: bytes) -> None:
        self.audio, self.requests = audio, 0
        self.sending = threading.Event()

    def __call__(self, handler: Handler, _received: Received) -> None:
        self.requests += 1
        slow = self.requests == 1
        handler.send_response(200)
        handler.send_header("Content-Type", "audio/wav")
        handler.send_header("Content-Length", str(len(self.audio)))
        handler.end_headers()
        chunks = 20 if slow else 1
        size = -(-len(self.audio) // chunks)
        for start in range(0, len(self.audio), size):
            handler.wfile.write(self.audio[start : start + size])
            handler.wfile.flush()
            if slow:
                self.sending.set()
                time.sleep(SLOW_S / chunks)


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    return Pipeline(registry=ModelRegistry(tmp_path_factory.mktemp("models")))


def _context(store: JobStore, pipeline: Pipeline, root: Path, name: str) -> WorkerContext:
    objects = LocalObjectStore(root / "objects")
    policy = EgressPolicy.parse("127.0.0.1")
    return WorkerContext(
        store, objects, pipeline, root / f"tmp-{name}", lease_s=LEASE_S, egress=policy
    )


def _queue(store: JobStore, url: str) -> None:
    tenant = store.create_tenant("acme", ["media"])
    source = JobSource(SourceKind.URL, "media", url=url, filename="fox.wav")
    options = JobOptions(model="whisper-tiny.en")
    store.create_job(Job("j1", tenant.id, JobStatus.QUEUED, source, options, datetime.now(UTC)))


def _run_in_thread(ctx: WorkerContext) -> tuple[threading.Thread, list[object]]:
    outcome: list[object] = []
    thread = threading.Thread(target=lambda: outcome.append(run_job("j1", ctx)))
    thread.start()
    return thread, outcome


def test_the_lease_holds_through_a_slow_download(
    store: JobStore, pipeline: Pipeline, english_wav: Path, tmp_path: Path
) -> None:
    source = SlowSource(english_wav.read_bytes())
    with serving(source) as server:
        _queue(store, server.url("/fox.wav"))
        thread, outcome = _run_in_thread(_context(store, pipeline, tmp_path, "a"))
        assert source.sending.wait(30)
        for _ in range(int(SLOW_S / LEASE_S) - 1):  # lease periods with no progress
            time.sleep(LEASE_S)
            assert store.expired_leases() == [] and store.claim("j1", LEASE_S) is None
        thread.join(120)
    assert outcome == [JobStatus.SUCCEEDED]
    job = store.get_job("j1", None)
    assert job.attempts == 1 and source.requests == 1
    result = LocalObjectStore(tmp_path / "objects").get_bytes("media", result_key("j1"))
    assert b"fox" in result.lower()


def test_a_worker_cut_off_mid_download_is_taken_over_and_leaves_one_result(
    store: JobStore, pipeline: Pipeline, english_wav: Path, tmp_path: Path
) -> None:
    source = SlowSource(english_wav.read_bytes())
    cut = Cut(store.engine)
    with serving(source) as server:
        _queue(store, server.url("/fox.wav"))
        thread, outcome = _run_in_thread(_context(cut, pipeline, tmp_path, "a"))
        assert source.sending.wait(30)
        cut.cut = True  # worker a loses the database while its download goes on
        time.sleep(1.5 * LEASE_S)
        assert [job.id for job in store.expired_leases()] == ["j1"]
        assert run_job("j1", _context(store, pipeline, tmp_path, "b")) is JobStatus.SUCCEEDED
        done = store.get_job("j1", None)
        cut.cut = False
        thread.join(120)
    assert outcome == [JobStatus.CANCELLED]  # a stopped once its download ended
    assert store.get_job("j1", None) == done
    assert (done.status, done.attempts, source.requests) == (JobStatus.SUCCEEDED, 2, 2)
    objects = tmp_path / "objects"
    written = sorted(str(p.relative_to(objects)) for p in objects.rglob("*") if p.is_file())
    assert written == ["dsac-internal/transcripts/j1.json", f"media/{result_key('j1')}"]
