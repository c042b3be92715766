"""Running one job: claim it, fetch its audio, transcribe, store the result.

No queue library here: the Celery task in ``jobs/queue.py`` calls ``run_job``.
Idempotent: a finished, cancelled or deleted job is not run again, and the
result is written before the job's state changes. Fenced: every change names
the claim's ``lease_id``, whose lease a heartbeat thread renews for the whole
claim; a claim that lost its job stops and leaves the new claim's work alone.
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
from dsac_asr.jobs.holders import process_holder
from dsac_asr.jobs.lease import JobCancelled, LeaseKeeper
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
from dsac_asr.pipeline import Pipeline
from dsac_asr.storage.base import ObjectStore
from dsac_asr.transcript import Transcript

__all__ = ["JobBatching", "WorkerContext", "result_key", "run_claimed", "run_job", "transcript_key"]

log = logging.getLogger(__name__)


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
    holder: str = field(default_factory=process_holder)  # the process that claims jobs


def run_job(job_id: str, ctx: WorkerContext) -> JobStatus | None:
    """Run the job if it can be claimed; return its final status (None if not claimed).

    Input and engine errors fail the job; ``TransientError`` is raised for the
    queue to retry, after the job is handed back.
    """
    job = ctx.store.claim(job_id, ctx.lease_s, ctx.holder)
    if job is None:
        log.info("job %s not claimable (finished, cancelled, deleted or leased)", job_id)
        return None
    return run_claimed(job, ctx)


def run_claimed(job: Job, ctx: WorkerContext) -> JobStatus:
    """Run a job this worker has claimed; as ``run_job``. A claim that is lost on
    the way (cancelled, deleted, or taken over after its lease ran out) stops and
    changes nothing of the job's: it returns ``CANCELLED``."""
    lease_id = job.lease_id or ""
    log.info("job %s: claimed (attempt %d, lease %s)", job.id, job.attempts, lease_id)
    if job.attempts > ctx.max_attempts:
        message = (
            f"the worker stopped {job.attempts - 1} times while running this job "
            "(poison input?); giving up"
        )
        return _fail(job, "worker_crashed", message, ctx)
    with LeaseKeeper(ctx.store, job.id, lease_id, ctx.lease_s) as lease:
        try:
            return _run_held(job, ctx, lease)
        except JobCancelled:
            return JobStatus.CANCELLED
        except TransientError:  # fetching, transcribing or writing the results
            ctx.store.release(job.id, lease_id)
            raise


def _run_held(job: Job, ctx: WorkerContext, lease: LeaseKeeper) -> JobStatus:
    """Transcribe and store the result under the claim ``lease`` keeps; input and
    engine errors fail the job, ``TransientError`` and ``JobCancelled`` propagate."""
    started = time.monotonic()
    try:
        transcript = _transcribe(job, ctx, lease)
    except TransientError:
        raise
    except DsacError as exc:
        return _fail(job, exc.code, exc.message, ctx)
    return _store_result(job, transcript, time.monotonic() - started, ctx, lease)


def _transcribe(job: Job, ctx: WorkerContext, lease: LeaseKeeper) -> Transcript:
    with job_workspace(ctx.temp_root, job.id) as folder:
        path = fetch_input(
            job,
            ctx.objects,
            folder,
            ctx.max_input_bytes,
            policy=ctx.egress,
            timeouts=ctx.fetch_timeouts,
        )
        lease.check()
        return ctx.pipeline.transcribe(path, job.options, lease)


def _store_result(
    job: Job, transcript: Transcript, processing_s: float, ctx: WorkerContext, lease: LeaseKeeper
) -> JobStatus:
    """Write the result objects, then mark the job, as long as this claim holds it.

    The lease is renewed just before each write (a lost claim writes nothing more).
    If the job was cancelled or deleted meanwhile, the writes are undone (no
    transcript outlives its job); if another claim took the job over, what it
    wrote is left alone.
    """
    try:
        key = write_results(
            ctx.store, ctx.objects, ctx.internal_bucket, job, transcript, lease.renew
        )
    except ObjectInUseError as exc:
        return _fail(job, exc.code, exc.message, ctx)
    done = ctx.store.finish_success(
        job.id,
        job.lease_id or "",
        result_key=key,
        duration_s=transcript.duration_s,
        processing_s=processing_s,
        model_id=transcript.model_id,
        transcript_metadata=dict(transcript.metadata),
    )
    if done is None:
        if _gone_or_cancelled(job.id, ctx):
            undo_results(ctx.store, ctx.objects, ctx.internal_bucket, job)
        return JobStatus.CANCELLED
    _delete_private_audio(job, ctx)
    return JobStatus.SUCCEEDED


def _gone_or_cancelled(job_id: str, ctx: WorkerContext) -> bool:
    """Whether no claim can own the job's results any more: deleted or cancelled."""
    try:
        return ctx.store.get_job(job_id, None).status is JobStatus.CANCELLED
    except NotFoundError:
        return True


def _fail(job: Job, code: str, message: str, ctx: WorkerContext) -> JobStatus:
    """Mark the job failed if this claim still holds it (a private job's audio goes
    as after a success); ``FAILED``, or ``CANCELLED`` when the claim was lost."""
    failed = ctx.store.finish_failure(job.id, code, message, lease_id=job.lease_id or "")
    if failed is None:
        return JobStatus.CANCELLED
    _delete_private_audio(job, ctx)
    return JobStatus.FAILED


def _delete_private_audio(job: Job, ctx: WorkerContext) -> None:
    """Delete a private job's audio object (a URL source left nothing behind)."""
    delete_private_audio(ctx.store, ctx.objects, job)
