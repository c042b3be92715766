"""The callback outbox: events written with a job's final state, and their attempts.

``settle`` runs inside the transaction that makes a job final, so a finished job
with a ``callback_url`` always has its event: nothing between the commit and the
first attempt can lose it. Whoever delivers (a queue task right away, the
sweeper when due) first ``claim_event``s it with a conditional UPDATE, so two
senders never make the same attempt; the claim lasts ``claim_s`` and then lapses
(the sender died), letting the next sweep try again under a new attempt number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dsac_asr.jobs.database import Database
from dsac_asr.jobs.model import CallbackAttempt, JobStatus
from dsac_asr.jobs.tables import CallbackAttemptRow, CallbackEventRow, JobRow

DELIVERED = "delivered"
PENDING = "pending"
EXHAUSTED = "exhausted"
SECRET_OPTION = "callback_api_key"
_CALLED_BACK = (JobStatus.SUCCEEDED.value, JobStatus.FAILED.value)


@dataclass(frozen=True)
class OutboxEvent:
    """A callback event: ``attempts`` made (or started) so far, and when the next is due."""

    id: str
    job_id: str
    state: str
    attempts: int
    next_at: datetime


def event_id(job_id: str, status: str) -> str:
    """The ``webhook-id`` of the job's callback for ``status``: the same on every attempt."""
    return f"msg_{job_id}_{status}"


def settle(session: Session, row: JobRow, now: datetime) -> None:
    """In the transaction that made ``row`` final: queue its callback event, if it has
    one; a job that will not call back (cancelled) forgets its callback secret now."""
    if row.status in _CALLED_BACK and row.options.get("callback_url"):
        event_key = event_id(row.id, row.status)
        if session.get(CallbackEventRow, event_key) is None:  # one event per job and status
            session.add(CallbackEventRow(
                id=event_key, job_id=row.id, state=PENDING, attempts=0,
                next_at=now, claimed_until=None, created_at=now, finished_at=None,
            ))  # fmt: skip
    elif row.options.get(SECRET_OPTION):
        _forget_secret(row)


def _forget_secret(row: JobRow) -> None:
    row.options = {**row.options, SECRET_OPTION: None}


def _forget_job_secret(session: Session, job_id: str) -> None:
    row = session.get(JobRow, job_id)
    if row is not None and row.options.get(SECRET_OPTION):
        _forget_secret(row)


class CallbackOutbox(Database):
    """Store methods for callback events and their attempts (mixed into ``JobStore``)."""

    def due_events(self, now: datetime, limit: int = 100) -> list[OutboxEvent]:
        """Pending events whose next attempt is due and that nobody holds, oldest first."""
        query = (
            select(CallbackEventRow)
            .where(_due(now))
            .order_by(CallbackEventRow.next_at, CallbackEventRow.id)
            .limit(limit)
        )
        with self.session() as session:
            return [_event(row) for row in session.scalars(query)]

    def claim_event(self, event_id: str, now: datetime, claim_s: float) -> OutboxEvent | None:
        """Take the event's next attempt for ``claim_s`` seconds (one more attempt counted);
        None when it is not pending, not due, or another sender holds it."""
        statement = (
            update(CallbackEventRow)
            .where(CallbackEventRow.id == event_id, _due(now))
            .values(
                attempts=CallbackEventRow.attempts + 1,
                claimed_until=now + timedelta(seconds=claim_s),
            )
            .returning(CallbackEventRow)
            .execution_options(synchronize_session=False)
        )
        with self.session() as session:
            row = session.scalars(statement).one_or_none()
            return _event(row) if row is not None else None

    def complete_attempt(
        self, event: OutboxEvent, attempt: CallbackAttempt, next_at: datetime | None
    ) -> bool:
        """Record the claimed attempt and release the event: due again at ``next_at``, or
        final (``next_at`` None), which also erases the job's callback secret. False when
        the claim had lapsed and another sender took the event over (the attempt is
        still recorded)."""
        state = PENDING if next_at is not None else _final_state(attempt.outcome)
        values = {"state": state, "claimed_until": None, "next_at": next_at or attempt.at}
        if next_at is None:
            values["finished_at"] = attempt.at
        statement = (
            update(CallbackEventRow)
            .where(CallbackEventRow.id == event.id, CallbackEventRow.attempts == event.attempts)
            .values(values)
            .returning(CallbackEventRow.id)
        )
        try:
            with self.session() as session:
                _add_attempt(session, event.job_id, attempt)
                held = session.scalars(statement).first() is not None
                if held and next_at is None:
                    _forget_job_secret(session, event.job_id)
        except IntegrityError:
            return False  # this attempt was already recorded: another sender holds the event
        return held

    def callback_event(self, job_id: str) -> OutboxEvent | None:
        """The job's callback event, if it has one."""
        query = select(CallbackEventRow).where(CallbackEventRow.job_id == job_id)
        with self.session() as session:
            row = session.scalars(query).first()
            return _event(row) if row is not None else None

    def record_attempt(self, job_id: str, attempt: CallbackAttempt) -> bool:
        """Record an attempt; False when that attempt of that event was already recorded."""
        try:
            with self.session() as session:
                _add_attempt(session, job_id, attempt)
        except IntegrityError:
            return False
        return True

    def callback_attempts(self, job_id: str) -> list[CallbackAttempt]:
        """Every recorded attempt for the job, oldest first."""
        query = (
            select(CallbackAttemptRow)
            .where(CallbackAttemptRow.job_id == job_id)
            .order_by(CallbackAttemptRow.id)
        )
        with self.session() as session:
            return [_attempt(row) for row in session.scalars(query)]

    def event_delivered(self, event_id: str) -> bool:
        """Whether the event was already delivered (at most one delivery per event)."""
        query = select(CallbackAttemptRow.id).where(
            CallbackAttemptRow.event_id == event_id, CallbackAttemptRow.outcome == DELIVERED
        )
        with self.session() as session:
            return session.scalars(query).first() is not None


def _due(now: datetime) -> ColumnElement[bool]:
    unclaimed = or_(CallbackEventRow.claimed_until.is_(None), CallbackEventRow.claimed_until < now)
    return and_(CallbackEventRow.state == PENDING, CallbackEventRow.next_at <= now, unclaimed)


def _final_state(outcome: str) -> str:
    return outcome if outcome in (DELIVERED, "gone", "failed") else EXHAUSTED


def _add_attempt(session: Session, job_id: str, attempt: CallbackAttempt) -> None:
    """Add the attempt's row; a second row for the same attempt fails the transaction."""
    row = CallbackAttemptRow(
        job_id=job_id, event_id=attempt.event_id, attempt=attempt.attempt, at=attempt.at,
        status_code=attempt.status_code, error=attempt.error, outcome=attempt.outcome,
    )  # fmt: skip
    session.add(row)
    session.flush()


def _event(row: CallbackEventRow) -> OutboxEvent:
    return OutboxEvent(row.id, row.job_id, row.state, row.attempts, row.next_at)


def _attempt(row: CallbackAttemptRow) -> CallbackAttempt:
    return CallbackAttempt(
        row.event_id, row.attempt, row.at, row.status_code, row.error, row.outcome
    )
