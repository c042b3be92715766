"""Short jobs run together: a worker that claims a job also claims queued jobs
routed like it, and their short clips are recognised in one batch.

Each job keeps its own lease, heartbeat, progress, result, failure and
callback: every job runs the usual ``run_claimed`` in a thread of its own and
only the recognition of short clips is pooled (``engines.pooling``), so a bad
file fails alone. A job taken into another's batch is still delivered by the
queue later; its task finds it running or finished and does nothing (claims
are atomic). If the worker dies, the batch's leases expire and the sweeper
re-enqueues its jobs; a job that was interrupted once runs alone from then
on, so a poison file cannot take its batch mates down with it again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace

from dsac_asr.engines.pooling import PoolMember, RecognitionPool
from dsac_asr.errors import NotFoundError, TransientError
from dsac_asr.jobs.model import Job, JobStatus
from dsac_asr.jobs.runner import WorkerContext, run_claimed, run_job

log = logging.getLogger(__name__)
POLL_S = 0.05
MAX_ROUNDS = 8
"""Batches one task runs after its own, before it lets the queue deliver the next message."""
MateDone = Callable[[str, JobStatus | None], None]
"""Told each batch mate's final status, or None when it was handed back to the queue."""
Outcome = JobStatus | BaseException


def run_batch(job_id: str, ctx: WorkerContext, mate_done: MateDone) -> JobStatus | None:
    """Run the job as ``run_job`` does, together with queued jobs like it when
    batching is on; ``mate_done`` hears about each of those once the batch ends."""
    if ctx.batching.size <= 1:
        return run_job(job_id, ctx)
    job = ctx.store.claim(job_id, ctx.lease_s, ctx.holder)
    if job is None:
        log.info("job %s not claimable (finished, cancelled, deleted or leased)", job_id)
        return None
    mates = claim_mates(job, ctx) if job.attempts == 1 else []
    if not mates:
        return run_claimed(job, ctx)
    log.info("job %s: running with %d queued jobs like it", job.id, len(mates))
    outcomes = run_together([job, *mates], ctx)
    for mate in mates:
        _report_mate(mate.id, outcomes[mate.id], mate_done)
    leader = outcomes[job.id]
    if isinstance(leader, BaseException):
        raise leader
    return leader


RouteKey = tuple[str, str, str | None, str | None, str | None, float | None]


def route_key(job: Job) -> RouteKey:
    """What picks a job's model and decoding (its prompt and temperature included):
    jobs that share it can share a batch."""
    o = job.options
    return o.language, o.band, o.domain, o.model, o.prompt or None, o.temperature


def claim_mates(
    job: Job, ctx: WorkerContext, wanted: int | None = None, wait_s: float | None = None
) -> list[Job]:
    """Claim up to ``wanted`` (default ``batching.size - 1``) queued jobs routed like
    ``job``, oldest first; while some are queued but the batch is not full, look
    again for up to ``wait_s`` (default ``batching.wait_s``)."""
    wanted = ctx.batching.size - 1 if wanted is None else wanted
    deadline = time.monotonic() + (ctx.batching.wait_s if wait_s is None else wait_s)
    mates: list[Job] = []
    while True:
        candidates = [
            c
            for c in ctx.store.queued_jobs(10 * ctx.batching.size)
            if route_key(c) == route_key(job)
        ]
        mates += _claim_some(candidates, wanted - len(mates), ctx)
        if len(mates) >= wanted or not (mates or candidates) or time.monotonic() >= deadline:
            return mates
        time.sleep(POLL_S)


def run_queued_like(
    job_id: str, ctx: WorkerContext, mate_done: MateDone, max_rounds: int = MAX_ROUNDS
) -> int:
    """After a batch: run further batches of the queued jobs routed like ``job_id``'s
    while there are any (at most ``max_rounds``), so that a burst of short jobs
    does not wait for the queue to deliver their messages one by one (the jobs
    this takes find their own messages not claimable later). Each job's end is
    told to ``mate_done``; returns how many jobs ran."""
    if ctx.batching.size <= 1:
        return 0
    try:
        like = ctx.store.get_job(job_id, None)
    except NotFoundError:
        return 0
    ran = 0
    for _round in range(max_rounds):
        jobs = claim_mates(like, ctx, wanted=ctx.batching.size, wait_s=0.0)
        if not jobs:
            break
        outcomes = run_together(jobs, ctx)
        for job in jobs:
            _report_mate(job.id, outcomes[job.id], mate_done)
        ran += len(jobs)
    return ran


def _claim_some(candidates: list[Job], count: int, ctx: WorkerContext) -> list[Job]:
    claimed: list[Job] = []
    for candidate in candidates:
        if len(claimed) >= count:
            break
        job = ctx.store.claim(candidate.id, ctx.lease_s, ctx.holder)
        if job is not None:
            claimed.append(job)
    return claimed


def run_together(jobs: list[Job], ctx: WorkerContext) -> dict[str, Outcome]:
    """Run claimed ``jobs`` in threads of their own, their short clips recognised
    in shared batches; each job's final status, or the error it raised."""
    pool = RecognitionPool()
    load = ctx.pipeline.engine_for
    share = ctx.batching.share_windows
    members = [pool.member(load, job.tenant_id if share else None) for job in jobs]
    with ThreadPoolExecutor(len(jobs), thread_name_prefix="batch-job") as threads:
        futures = [
            threads.submit(_run_member, job, member, ctx)
            for job, member in zip(jobs, members, strict=True)
        ]
    return {job.id: _outcome(future) for job, future in zip(jobs, futures, strict=True)}


def _run_member(job: Job, member: PoolMember, ctx: WorkerContext) -> JobStatus:
    with member:
        pipeline = replace(ctx.pipeline, engine_for=member.engine)
        return run_claimed(job, replace(ctx, pipeline=pipeline))


def _outcome(future: Future[JobStatus]) -> Outcome:
    error = future.exception()
    return future.result() if error is None else error


def _report_mate(job_id: str, outcome: Outcome, mate_done: MateDone) -> None:
    """A mate handed back after a transient error must be queued again; one that
    failed unexpectedly keeps its lease until it expires (the sweeper requeues it)."""
    if isinstance(outcome, TransientError):
        mate_done(job_id, None)
    elif isinstance(outcome, BaseException):
        log.error("job %s failed unexpectedly in a batch", job_id, exc_info=outcome)
    else:
        mate_done(job_id, outcome)
