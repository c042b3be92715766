"""The worker's job runner on a real SQLite store and local object store,
with a fake pipeline (this is a unit test of the runner's bookkeeping)."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dsac_asr.errors import NotMediaError, TransientError
from dsac_asr.jobs.model import Job, JobOptions, JobSource, JobStatus, SourceKind
from dsac_asr.jobs.runner import WorkerContext, result_key, run_job, transcript_key
from dsac_asr.jobs.store import JobStore
from dsac_asr.jobs.workspace import job_workspace, remove_stale_workspaces
from dsac_asr.storage import LocalObjectStore
from dsac_asr.transcript import Segment, Transcript, Word
from dsac_asr.transcript.serialize import loads


class FakePipeline:
    """Records what it was asked and answers with a fixed transcript or error."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.seen: list[tuple[Path, bool]] = []

    def transcribe(self, path: Path, options: object, on_progress: object) -> Transcript:
        self.seen.append((path, path.exists()))
        on_progress(0.5)  # type: ignore[operator]
        if self.error is not None:
            raise self.error
        word = Word("hello", 0.1, 0.5, 0.9)
        return Transcript((Segment((word,), "Hello."),), "eng", "whisper-base", 3.0, {"band": "bb"})


def _context(store: JobStore, tmp_path: Path, pipeline: FakePipeline) -> WorkerContext:
    objects = LocalObjectStore(tmp_path / "objects")
    return WorkerContext(store, objects, pipeline, tmp_path / "tmp")  # type: ignore[arg-type]


def _queued_job(store: JobStore, ctx: WorkerContext, *, private: bool = False) -> Job:
    tenant = store.create_tenant("acme", ["media"])
    ctx.objects.put_bytes("media", "uploads/j1/a.wav", b"RIFF....", "audio/wav")
    job = Job(
        id="j1",
        tenant_id=tenant.id,
        status=JobStatus.QUEUED,
        source=JobSource(SourceKind.UPLOAD, "media", key="uploads/j1/a.wav", filename="a.wav"),
        options=JobOptions(private=private),
        created_at=datetime.now(UTC),
    )
    return store.create_job(job)


def test_success_writes_results_before_marking_the_job(store: JobStore, tmp_path: Path) -> None:
    pipeline = FakePipeline()
    ctx = _context(store, tmp_path, pipeline)
    _queued_job(store, ctx)
    assert run_job("j1", ctx) is JobStatus.SUCCEEDED
    job = store.get_job("j1", None)
    assert job.status is JobStatus.SUCCEEDED and job.model_id == "whisper-base"
    assert job.result_key == result_key("j1") and job.duration_s == 3.0
    assert b'"results"' in ctx.objects.get_bytes("media", result_key("j1"))
    transcript = ctx.objects.get_bytes(ctx.internal_bucket, transcript_key("j1"))
    assert loads(transcript).text == "Hello."
    assert not ctx.objects.exists("media", transcript_key("j1"))  # never in a client's bucket
    assert pipeline.seen[0][1] is True  # the input had been downloaded
    assert ctx.objects.exists("media", "uploads/j1/a.wav")  # not private: kept
    assert not any((tmp_path / "tmp").rglob("*.wav"))  # no temporary files left


def test_a_finished_job_is_not_run_again(store: JobStore, tmp_path: Path) -> None:
    pipeline = FakePipeline()
    ctx = _context(store, tmp_path, pipeline)
    _queued_job(store, ctx)
    run_job("j1", ctx)
    assert run_job("j1", ctx) is None
    assert len(pipeline.seen) == 1


def test_private_job_deletes_its_audio_after_success(store: JobStore, tmp_path: Path) -> None:
    ctx = _context(store, tmp_path, FakePipeline())
    _queued_job(store, ctx, private=True)
    run_job("j1", ctx)
    assert not ctx.objects.exists("media", "uploads/j1/a.wav")


def test_input_error_fails_the_job_with_its_code(store: JobStore, tmp_path: Path) -> None:
    ctx = _context(store, tmp_path, FakePipeline(NotMediaError("not an audio file")))
    _queued_job(store, ctx)
    assert run_job("j1", ctx) is JobStatus.FAILED
    job = store.get_job("j1", None)
    assert job.error is not None and job.error.code == "not_media"
    assert ctx.objects.exists("media", "uploads/j1/a.wav")  # nothing lost on failure


def test_a_failed_private_job_deletes_its_audio_too(store: JobStore, tmp_path: Path) -> None:
    """POPIA: a private job's audio does not outlive the job, whatever its outcome
    (before issue 13 a failure kept it)."""
    ctx = _context(store, tmp_path, FakePipeline(NotMediaError("not an audio file")))
    _queued_job(store, ctx, private=True)
    assert run_job("j1", ctx) is JobStatus.FAILED
    job = store.get_job("j1", None)
    assert job.error is not None and job.error.code == "not_media"
    assert not ctx.objects.exists("media", "uploads/j1/a.wav")


def test_transient_error_hands_the_job_back_for_a_retry(store: JobStore, tmp_path: Path) -> None:
    ctx = _context(store, tmp_path, FakePipeline(TransientError("store unreachable")))
    _queued_job(store, ctx)
    with pytest.raises(TransientError):
        run_job("j1", ctx)
    assert store.get_job("j1", None).status is JobStatus.QUEUED
    ctx2 = _context(store, tmp_path, FakePipeline())
    assert run_job("j1", ctx2) is JobStatus.SUCCEEDED


class UnwritableObjects(LocalObjectStore):
    """A local object store that is unreachable when results are written."""

    def put_bytes(self, bucket: str, key: str, data: bytes, content_type: str) -> None:
        if key.startswith(("decoded/", "transcripts/")):
            raise TransientError("object store unreachable")
        super().put_bytes(bucket, key, data, content_type)


def test_transient_error_writing_results_hands_the_job_back(
    store: JobStore, tmp_path: Path
) -> None:
    """A store outage while the results are written is a transient error like any other:
    the job is queued again at once, and the attempt is not counted as a crash (left
    running, it would wait for its lease to lapse and count towards worker_crashed)."""
    ctx = _context(store, tmp_path, FakePipeline())
    _queued_job(store, ctx)
    objects = UnwritableObjects(tmp_path / "objects")
    with pytest.raises(TransientError):
        run_job("j1", replace(ctx, objects=objects))
    job = store.get_job("j1", None)
    assert job.status is JobStatus.QUEUED and job.attempts == 0
    assert run_job("j1", ctx) is JobStatus.SUCCEEDED


def test_missing_input_object_fails_clearly(store: JobStore, tmp_path: Path) -> None:
    ctx = _context(store, tmp_path, FakePipeline())
    _queued_job(store, ctx)
    ctx.objects.delete("media", "uploads/j1/a.wav")
    assert run_job("j1", ctx) is JobStatus.FAILED
    assert store.get_job("j1", None).error.code == "not_found"  # type: ignore[union-attr]


def test_cancelled_while_running_stops_without_a_result(store: JobStore, tmp_path: Path) -> None:
    class CancelDuring(FakePipeline):
        def transcribe(self, path: Path, options: object, on_progress: object) -> Transcript:
            store.cancel("j1", store.get_job("j1", None).tenant_id)
            return super().transcribe(path, options, on_progress)

    ctx = _context(store, tmp_path, CancelDuring())
    _queued_job(store, ctx)
    assert run_job("j1", ctx) is JobStatus.CANCELLED
    assert store.get_job("j1", None).status is JobStatus.CANCELLED
    assert not ctx.objects.exists("media", result_key("j1"))


def test_workspace_is_removed_even_on_error(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), job_workspace(tmp_path, "j9") as folder:
        (folder / "input.wav").write_bytes(b"x")
        raise RuntimeError("boom")
    assert not (tmp_path / str(os.getpid()) / "j9").exists()


def test_stale_workspaces_of_dead_workers_are_removed(tmp_path: Path) -> None:
    dead = tmp_path / "999999999"
    (dead / "job").mkdir(parents=True)
    alive = tmp_path / str(os.getpid())
    alive.mkdir()
    assert remove_stale_workspaces(tmp_path) == [dead]
    assert alive.exists() and not dead.exists()


def test_deleted_while_running_leaves_no_result_behind(store: JobStore, tmp_path: Path) -> None:
    class DeleteDuring(FakePipeline):
        def transcribe(self, path: Path, options: object, on_progress: object) -> Transcript:
            transcript = super().transcribe(path, options, on_progress)
            job = store.get_job("j1", None)
            store.cancel("j1", job.tenant_id)
            store.delete_job("j1", job.tenant_id)
            return transcript

    ctx = _context(store, tmp_path, DeleteDuring())
    _queued_job(store, ctx)
    assert run_job("j1", ctx) is JobStatus.CANCELLED
    assert not ctx.objects.exists("media", result_key("j1"))
    assert not ctx.objects.exists(ctx.internal_bucket, transcript_key("j1"))


def test_a_job_whose_worker_keeps_dying_is_failed_after_max_attempts(
    store: JobStore, tmp_path: Path
) -> None:
    pipeline = FakePipeline()
    ctx = _context(store, tmp_path, pipeline)
    _queued_job(store, ctx)
    for _ in range(ctx.max_attempts):  # each claim whose worker then dies (lease expires)
        assert store.claim("j1", lease_s=-1) is not None
    assert run_job("j1", ctx) is JobStatus.FAILED
    job = store.get_job("j1", None)
    assert job.error is not None and job.error.code == "worker_crashed"
    assert "3 times" in job.error.message
    assert pipeline.seen == []


def test_transient_hand_backs_do_not_count_as_crashes(store: JobStore, tmp_path: Path) -> None:
    ctx = _context(store, tmp_path, FakePipeline(TransientError("database unreachable")))
    _queued_job(store, ctx)
    for _ in range(ctx.max_attempts + 2):
        with pytest.raises(TransientError):
            run_job("j1", ctx)
    assert run_job("j1", _context(store, tmp_path, FakePipeline())) is JobStatus.SUCCEEDED
