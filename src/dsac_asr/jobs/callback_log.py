"""The record of callback delivery attempts (visible in a job's status)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from dsac_asr.jobs.database import Database
from dsac_asr.jobs.model import CallbackAttempt
from dsac_asr.jobs.tables import CallbackAttemptRow

DELIVERED = "delivered"


class CallbackLog(Database):
    """Store methods for callback attempts (mixed into ``JobStore``)."""

    def record_attempt(self, job_id: str, attempt: CallbackAttempt) -> bool:
        """Record an attempt; False when that attempt of that event was already recorded
        (a redelivered queue message), so the caller does not send it twice."""
        row = CallbackAttemptRow(
            job_id=job_id, event_id=attempt.event_id, attempt=attempt.attempt, at=attempt.at,
            status_code=attempt.status_code, error=attempt.error, outcome=attempt.outcome,
        )  # fmt: skip
        try:
            with self.session() as session:
                session.add(row)
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


def _attempt(row: CallbackAttemptRow) -> CallbackAttempt:
    return CallbackAttempt(
        row.event_id, row.attempt, row.at, row.status_code, row.error, row.outcome
    )
