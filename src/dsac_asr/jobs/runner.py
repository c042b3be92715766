"""Running one job: claim it, fetch its audio, transcribe, store the result.

No queue library here: the Celery task in ``jobs/queue.py`` calls ``run_job``.
Idempotent: a finished, cancelled or deleted job is not run again, and the
result is written before the job's state changes.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from dsac_asr.config import DEFAULT_INTERNAL_BUCKET
from dsac_asr.egress import EgressPolicy, Timeouts
from dsac_asr.errors import DsacError, NotFoundError, ObjectInUseError, TransientError
from dsac_asr.jobs.fetch import fetch_input
from dsac_asr.jobs.model import Job, JobStatus
from dsac_asr.jobs.results import (
    delete_private_audio,
    result_key,
    transcript_key,
    undo_results,
    write_results,
)
from dsac_asr.jobs.store import JobStore
from dsac_asr.jobs.workspace import job_workspace
from dsac_asr.pipeline import Pipeline, TranscriptionOptions
from dsac_asr.storage.base import ObjectStore
from dsac_asr.transcript import Transcript

__all__ = ["JobBatching", "WorkerContext", "result_key", "run_claimed", "run_job", "transcript_key"]

log = logging.getLogger(__name__)
HEARTBEAT_EVERY_S = 1.0


class JobCancelled(Exception):
    """Raised inside the pipeline's progress callback when the job was cancelled."""


@dataclass(frozen=True)
class JobBatching:
    """How many queued short jobs a worker takes at once (``size`` 1: one at a time),
    how long it waits for more when others are queued, and whether one tenant's
    clips may share Whisper windows (faster; words may depend on neighbours)."""

    size: int = 1
    wait_s: float = 0.2
    share_windows: bool = True


@dataclass(frozen=True)
class WorkerContext:
    """What a worker process needs to run jobs."""

    store: JobStore
    objects: ObjectStore
    pipeline: Pipeline
    temp_root: Path
    lease_s: float = 60.0
    max_input_bytes: int = 2 * 1024**3
    max_attempts: int = 3
    egress: EgressPolicy = field(default_factory=EgressPolicy)
    fetch_timeouts: Timeouts = field(default_factory=lambda: Timeouts(10.0, 30.0, 3600.0))
    batching: JobBatching = field(default_factory=JobBatching)
    internal_bucket: str = DEFAULT_INTERNAL_BUCKET  # transcripts, out of every client's reach


def run_job(job_id: str, ctx: WorkerContext) -> JobStatus | None:
    """Run the job if it can be claimed; return its final status (None if not claimed).

    Input and engine errors fail the job; ``TransientError`` is raised for the
    queue to retry, after the job is handed back.
    """
    job = ctx.store.claim(job_id, ctx.lease_s)
    if job is None:
        log.info("job %s not claimable (finished, cancelled, deleted or leased)", job_id)
        return None
    return run_claimed(job, ctx)


def run_claimed(job: Job, ctx: WorkerContext) -> JobStatus:
    """Run a job this worker has claimed; as ``run_job``."""
    if job.attempts > ctx.max_attempts:
        message = (
            f"the worker stopped {job.attempts - 1} times while running this job "
            "(poison input?); giving up"
        )
        _fail(job, "worker_crashed", message, ctx)
        return JobStatus.FAILED
    started = time.monotonic()
    try:
        transcript = _transcribe(job, ctx)
    except JobCancelled:
        return JobStatus.CANCELLED
    except TransientError:
        ctx.store.release(job.id)
        raise
    except DsacError as exc:
        _fail(job, exc.code, exc.message, ctx)
        return JobStatus.FAILED
    return _store_result(job, transcript, time.monotonic() - started, ctx)


def _transcribe(job: Job, ctx: WorkerContext) -> Transcript:
    with job_workspace(ctx.temp_root, job.id) as folder:
        path = fetch_input(
            job,
            ctx.objects,
            folder,
            ctx.max_input_bytes,
            policy=ctx.egress,
            timeouts=ctx.fetch_timeouts,
        )
        options = TranscriptionOptions(
            language=job.options.language,
            band=job.options.band,
            channels=job.options.channels,
            domain=job.options.domain,
            model_id=job.options.model,
            punctuate=job.options.punctuate,
            diarize=job.options.diarize,
            speakers=job.options.speakers,
        )
        return ctx.pipeline.transcribe(path, options, _Heartbeat(job.id, ctx))


def _store_result(
    job: Job, transcript: Transcript, processing_s: float, ctx: WorkerContext
) -> JobStatus:
    """Write the result objects, then mark the job; undo the writes if it was
    cancelled or deleted meanwhile (no transcript outlives its job)."""
    if ctx.store.is_cancelled(job.id):
        return JobStatus.CANCELLED
    try:
        key = write_results(ctx.store, ctx.objects, ctx.internal_bucket, job, transcript)
    except ObjectInUseError as exc:
        _fail(job, exc.code, exc.message, ctx)
        return JobStatus.FAILED
    try:
        done = ctx.store.finish_success(
            job.id,
            result_key=key,
            duration_s=transcript.duration_s,
            processing_s=processing_s,
            model_id=transcript.model_id,
            transcript_metadata=dict(transcript.metadata),
        )
    except NotFoundError:
        done = None
    if done is None or done.status is not JobStatus.SUCCEEDED:
        undo_results(ctx.store, ctx.objects, ctx.internal_bucket, job)
        return JobStatus.CANCELLED
    _delete_private_audio(job, ctx)
    return JobStatus.SUCCEEDED


def _fail(job: Job, code: str, message: str, ctx: WorkerContext) -> None:
    """Mark the job failed; a private job's audio goes as after a success."""
    failed = ctx.store.finish_failure(job.id, code, message)
    if failed.status is JobStatus.FAILED:
        _delete_private_audio(job, ctx)


def _delete_private_audio(job: Job, ctx: WorkerContext) -> None:
    """Delete a private job's audio object (a URL source left nothing behind)."""
    delete_private_audio(ctx.store, ctx.objects, job)


class _Heartbeat:
    """Progress callback: extends the lease, records progress, notices cancellation."""

    def __init__(self, job_id: str, ctx: WorkerContext) -> None:
        self.job_id, self.ctx = job_id, ctx
        self.last_s = 0.0

    def __call__(self, fraction: float) -> None:
        now = time.monotonic()
        if now - self.last_s < HEARTBEAT_EVERY_S and fraction < 1.0:
            return
        self.last_s = now
        if self.ctx.store.is_cancelled(self.job_id):
            raise JobCancelled(self.job_id)
        self.ctx.store.heartbeat(self.job_id, min(fraction, 0.99), self.ctx.lease_s)
