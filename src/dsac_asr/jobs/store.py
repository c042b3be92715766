"""The durable job store: jobs of tenants in SQLite (default) or PostgreSQL.

Every method returns the dataclasses of ``jobs/model.py``. A job of another tenant
is reported exactly like a missing one (``NotFoundError``); connection problems
raise ``TransientError``. Call ``migrations.migrate(url)`` before ``JobStore.open``.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, literal, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dsac_asr.errors import InvalidOptionError, NotFoundError
from dsac_asr.jobs.callback_outbox import CallbackOutbox, settle
from dsac_asr.jobs.claims import ObjectClaims
from dsac_asr.jobs.database import Clock, make_engine, utc_now
from dsac_asr.jobs.model import Job, JobStatus
from dsac_asr.jobs.rows import decode_cursor, encode_cursor, job_from_row, row_from_job
from dsac_asr.jobs.sweep_turns import SweepTurns
from dsac_asr.jobs.tables import JobRow, UtcDateTime
from dsac_asr.jobs.tenants import TenantStore, tenant_row

MAX_JOB_ID_LENGTH = 128
MAX_PAGE_SIZE = 1000
ACTIVE = (JobStatus.QUEUED.value, JobStatus.RUNNING.value)
FINAL = frozenset(status.value for status in JobStatus if status.is_final)
_NO_LEASE: dict[str, Any] = {"lease_until": None, "lease_id": None, "holder": None}


class JobStore(TenantStore, CallbackOutbox, ObjectClaims, SweepTurns):
    """Tenants, keys, jobs, their callbacks and objects, and the sweeper's turns in one
    SQL database."""

    @classmethod
    def open(cls, database_url: str, *, clock: Clock = utc_now) -> JobStore:
        """A store on ``database_url`` (``sqlite:///path`` or ``postgresql+psycopg://...``)."""
        return cls(make_engine(database_url), clock=clock)

    def create_job(self, job: Job) -> Job:
        """Store a new job; an id already in use raises ``InvalidOptionError``."""
        if not job.id or len(job.id) > MAX_JOB_ID_LENGTH:
            raise InvalidOptionError(f"a job id has 1 to {MAX_JOB_ID_LENGTH} characters")
        if job.created_at.tzinfo is None:
            raise InvalidOptionError("a job's created_at must be timezone-aware")
        try:
            with self.session() as session:
                tenant_row(session, job.tenant_id)
                session.add(row_from_job(job))
        except IntegrityError as error:
            raise InvalidOptionError(f"job id {job.id!r} is already in use") from error
        return self.get_job(job.id, job.tenant_id)

    def get_job(self, job_id: str, tenant_id: str | None) -> Job:
        """The job; ``tenant_id`` None means any tenant (workers). Missing: ``NotFoundError``."""
        with self.session() as session:
            return job_from_row(_job_row(session, job_id, tenant_id))

    def list_jobs(
        self,
        tenant_id: str,
        *,
        status: JobStatus | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> tuple[list[Job], str | None]:
        """A page of the tenant's jobs, newest first, and the cursor of the next page (or None)."""
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise InvalidOptionError(f"limit must be between 1 and {MAX_PAGE_SIZE}")
        query = select(JobRow).where(JobRow.tenant_id == tenant_id)
        if status is not None:
            query = query.where(JobRow.status == status.value)
        if cursor is not None:
            query = query.where(_after(cursor))
        query = query.order_by(JobRow.created_at.desc(), JobRow.id.desc()).limit(limit + 1)
        with self.session() as session:
            rows = session.scalars(query).all()
        jobs = [job_from_row(row) for row in rows[:limit]]
        more = len(rows) > limit
        return jobs, encode_cursor(jobs[-1].created_at, jobs[-1].id) if more else None

    def count_active(self, tenant_id: str) -> int:
        """How many of the tenant's jobs are queued or running."""
        query = select(func.count()).where(JobRow.tenant_id == tenant_id, JobRow.status.in_(ACTIVE))
        with self.session() as session:
            return session.scalar(query) or 0

    def claim(self, job_id: str, lease_s: float, holder: str | None = None) -> Job | None:
        """Start (or restart) the job for a worker holding it for ``lease_s`` seconds.

        One atomic UPDATE: a queued job, or a running one whose lease has expired
        (its worker died), becomes running with a new lease, a fresh ``lease_id``
        (the claim's token), the ``holder`` process running it (``host:pid``) and
        one more attempt. None when the job is final, leased by another worker, or
        missing. Every later change by the worker names ``lease_id``: once another
        claim took the job over, they do nothing.
        """
        now = self.clock()
        claimable = or_(
            JobRow.status == JobStatus.QUEUED.value,
            and_(JobRow.status == JobStatus.RUNNING.value, JobRow.lease_until < now),
        )
        values = {
            "status": JobStatus.RUNNING.value,
            "started_at": func.coalesce(JobRow.started_at, literal(now, UtcDateTime())),
            "lease_until": now + timedelta(seconds=lease_s),
            "lease_id": uuid.uuid4().hex,
            "attempts": JobRow.attempts + 1,
            "holder": holder,
        }
        return self._transition(job_id, claimable, values)

    def heartbeat(self, job_id: str, lease_id: str, progress: float, lease_s: float) -> bool:
        """Record progress (0..1) and extend the claim's lease; False once the claim is
        lost (the job was cancelled, deleted, finished or taken over by another claim)."""
        values = {
            "progress": min(max(progress, 0.0), 1.0),
            "lease_until": self.clock() + timedelta(seconds=lease_s),
        }
        return self._transition(job_id, _held(lease_id), values) is not None

    def finish_success(
        self,
        job_id: str,
        lease_id: str,
        *,
        result_key: str,
        duration_s: float,
        processing_s: float,
        model_id: str,
        transcript_metadata: dict[str, str],
    ) -> Job | None:
        """Mark the job succeeded if the claim ``lease_id`` still holds it; the job, or
        None when the claim was lost (nothing changed)."""
        values = {
            **self._final_values(JobStatus.SUCCEEDED),
            "progress": 1.0,
            "result_key": result_key,
            "duration_s": duration_s,
            "processing_s": processing_s,
            "model_id": model_id,
            "transcript_metadata": dict(transcript_metadata),
        }
        return self._transition(job_id, _held(lease_id), values)

    def finish_failure(
        self, job_id: str, code: str, message: str, *, lease_id: str | None
    ) -> Job | None:
        """Mark the job failed if the claim ``lease_id`` still holds it (None: if it is
        queued, held by no claim); the job, or None when nothing changed."""
        error = {"error_code": code, "error_message": message}
        values = {**self._final_values(JobStatus.FAILED), **error}
        if lease_id is None:
            return self._transition(job_id, JobRow.status == JobStatus.QUEUED.value, values)
        return self._transition(job_id, _held(lease_id), values)

    def release(self, job_id: str, lease_id: str) -> bool:
        """Hand a running job back (its worker hit a transient error): queued, no lease.

        The attempt is not counted: ``attempts`` counts runs that ended with the
        worker gone (crashes, not stops from outside: ``expire_claims``), which
        bound how often a poison input is retried.
        False when the claim was lost (cancelled, finished, deleted or taken over).
        """
        values = {"status": JobStatus.QUEUED.value, "attempts": JobRow.attempts - 1}
        return self._transition(job_id, _held(lease_id), {**values, **_NO_LEASE}) is not None

    def cancel(self, job_id: str, tenant_id: str) -> Job:
        """Cancel the tenant's queued or running job and return it; final jobs are unchanged
        (a job that is missing or another tenant's: ``NotFoundError``)."""
        owned = and_(JobRow.tenant_id == tenant_id, JobRow.status.in_(ACTIVE))
        values = self._final_values(JobStatus.CANCELLED)
        return self._transition(job_id, owned, values) or self.get_job(job_id, tenant_id)

    def _final_values(self, status: JobStatus) -> dict[str, Any]:
        return {"status": status.value, "finished_at": self.clock(), **_NO_LEASE}

    def _transition(
        self, job_id: str, condition: ColumnElement[bool], values: dict[str, Any]
    ) -> Job | None:
        """Apply ``values`` in one UPDATE if ``condition`` holds; the updated job, else None.

        A job made final settles its callback in the same transaction (``outbox.settle``).
        """
        statement = (
            update(JobRow)
            .where(JobRow.id == job_id, condition)
            .values(values)
            .returning(JobRow)
            .execution_options(synchronize_session=False)
        )
        with self.session() as session:
            row = session.scalars(statement).one_or_none()
            if row is None:
                return None
            if values.get("status") in FINAL:
                settle(session, row, self.clock())
            return job_from_row(row)

    def delete_job(self, job_id: str, tenant_id: str) -> Job:
        """Delete the tenant's job and return what it was (to remove its objects)."""
        with self.session() as session:
            job = job_from_row(_job_row(session, job_id, tenant_id))
            session.execute(delete(JobRow).where(JobRow.id == job_id))
        return job

    def is_cancelled(self, job_id: str) -> bool:
        """Whether a worker should stop: the job was cancelled or no longer exists."""
        with self.session() as session:
            status = session.scalar(select(JobRow.status).where(JobRow.id == job_id))
        return status is None or status == JobStatus.CANCELLED.value

    def expired_leases(self) -> list[Job]:
        """Running jobs whose lease expired (their worker died or lost touch), oldest first."""
        expired = and_(JobRow.status == JobStatus.RUNNING.value, JobRow.lease_until < self.clock())
        query = select(JobRow).where(expired).order_by(JobRow.created_at, JobRow.id)
        with self.session() as session:
            return [job_from_row(row) for row in session.scalars(query)]

    def requeue_expired(self, job_id: str, lease_id: str) -> bool:
        """Take the job from the claim ``lease_id`` whose lease expired: queued again,
        no lease (the attempt stays counted: its worker is presumed dead). False when
        that claim renewed its lease, or the job was taken over, finished or deleted."""
        expired = and_(_held(lease_id), JobRow.lease_until < self.clock())
        values = {"status": JobStatus.QUEUED.value, **_NO_LEASE}
        return self._transition(job_id, expired, values) is not None

    def expire_claims(self, holder: str, *, counted: bool) -> list[str]:
        """The process ``holder`` died: the leases of the jobs it was running (not yet
        expired) expire now, so the sweeper queues them again at its next turn
        instead of a lease later; their ids. ``counted=False`` (it was stopped from
        outside, not crashed) takes back the attempt, which then does not count
        towards the poison-input limit."""
        values: dict[str, Any] = {"lease_until": self.clock() - timedelta(seconds=1)}
        if not counted:
            values["attempts"] = JobRow.attempts - 1
        return self._update_held(holder, values)

    def take_back_attempts(self, holder: str) -> list[str]:
        """The process ``holder`` is being stopped (its worker was told to shut down):
        the attempts of the jobs it is running (leases not yet expired) are taken
        back now, while something is alive to say so; their ids. The leases stay:
        a job that finishes before the process is gone is simply done, and one cut
        off is queued again when its lease runs out, without that run counting
        towards the poison-input limit. Call it once per stop."""
        return self._update_held(holder, {"attempts": JobRow.attempts - 1}, JobRow.attempts > 0)

    def _update_held(self, holder: str, values: dict[str, Any], *also: Any) -> list[str]:
        """Set ``values`` on the running jobs whose live claim ``holder`` holds; their ids."""
        now = self.clock()
        held = and_(
            JobRow.status == JobStatus.RUNNING.value,
            JobRow.holder == holder,
            JobRow.lease_until >= now,  # once expired, the sweeper has it (counted)
            *also,
        )
        statement = (
            update(JobRow)
            .where(held)
            .values(values)
            .returning(JobRow.id)
            .execution_options(synchronize_session=False)
        )
        with self.session() as session:
            return sorted(session.scalars(statement))

    def queued_ids(self) -> list[str]:
        """Ids of every queued job, oldest first."""
        query = (
            select(JobRow.id)
            .where(JobRow.status == JobStatus.QUEUED.value)
            .order_by(JobRow.created_at, JobRow.id)
        )
        with self.session() as session:
            return list(session.scalars(query))

    def queued_jobs(self, limit: int) -> list[Job]:
        """Up to ``limit`` queued jobs (of all tenants) that never started, oldest first:
        candidates for a worker's batch, each to be taken with ``claim``."""
        query = (
            select(JobRow)
            .where(JobRow.status == JobStatus.QUEUED.value, JobRow.attempts == 0)
            .order_by(JobRow.created_at, JobRow.id)
            .limit(limit)
        )
        with self.session() as session:
            return [job_from_row(row) for row in session.scalars(query)]

    def count_by_status(self) -> dict[JobStatus, int]:
        """How many jobs (of all tenants) are in each status."""
        query = select(JobRow.status, func.count()).group_by(JobRow.status)
        counts = dict.fromkeys(JobStatus, 0)
        with self.session() as session:
            for status, count in session.execute(query):
                counts[JobStatus(status)] = count
        return counts

    def audio_seconds_processed(self) -> float:
        """Total audio duration of succeeded jobs, in seconds."""
        query = select(func.coalesce(func.sum(JobRow.duration_s), 0.0)).where(_succeeded())
        with self.session() as session:
            return float(session.scalar(query) or 0.0)

    def realtime_factors(self, limit: int = 10000) -> list[float]:
        """``processing_s / duration_s`` of the most recently finished succeeded jobs."""
        query = (
            select(JobRow.processing_s, JobRow.duration_s)
            .where(_succeeded(), JobRow.duration_s > 0, JobRow.processing_s.is_not(None))
            .order_by(JobRow.finished_at.desc())
            .limit(limit)
        )
        with self.session() as session:
            rows = session.execute(query).all()
        return [float(processing or 0.0) / float(duration or 1.0) for processing, duration in rows]


def _held(lease_id: str) -> ColumnElement[bool]:
    """The job is running under the claim ``lease_id`` (the fencing condition)."""
    return and_(JobRow.status == JobStatus.RUNNING.value, JobRow.lease_id == lease_id)


def _succeeded() -> ColumnElement[bool]:
    return JobRow.status == JobStatus.SUCCEEDED.value


def _after(cursor: str) -> ColumnElement[bool]:
    """Rows after the cursor's position in newest-first (created_at, id) order."""
    created_at, job_id = decode_cursor(cursor)
    stamp = literal(created_at, UtcDateTime())
    return or_(JobRow.created_at < stamp, and_(JobRow.created_at == stamp, JobRow.id < job_id))


def _job_row(session: Session, job_id: str, tenant_id: str | None) -> JobRow:
    query = select(JobRow).where(JobRow.id == job_id)
    if tenant_id is not None:
        query = query.where(JobRow.tenant_id == tenant_id)
    row = session.scalar(query)
    if row is None:
        raise NotFoundError(f"no job with id {job_id!r}")
    return row
