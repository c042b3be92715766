"""The job store's tables: tenants, their API keys and their jobs (SQLAlchemy 2 declarative).

Timestamps are stored in UTC. PostgreSQL keeps the zone (``timestamptz``); SQLite
has no zone, so values are converted to UTC on the way in and marked UTC on the
way out: every ``datetime`` read back is timezone-aware.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC ``datetime`` on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse naive values; store the UTC instant (naive on SQLite, which has no zones)."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the job store: use UTC-aware values")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Mark naive values (SQLite) as UTC and convert aware ones to UTC."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of the job store's tables."""

    type_annotation_map: dict[Any, Any] = {  # noqa: RUF012 (SQLAlchemy reads a class attribute)
        datetime: UtcDateTime(),
        dict[str, Any]: JSON(),
        list[str]: JSON(),
    }


class TenantRow(Base):
    """A customer; ``buckets`` is the list of object-store buckets it may read."""

    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    buckets: Mapped[list[str]]
    webhook_secret: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]


class ApiKeyRow(Base):
    """An API key: only its SHA-256 hex digest and a short prefix are kept."""

    __tablename__ = "api_keys"
    __table_args__ = (Index("ix_api_keys_key_hash", "key_hash", unique=True),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    key_hash: Mapped[str] = mapped_column(String(64))
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class JobRow(Base):
    """A transcription job; ``lease_until`` is when a running job's worker is presumed dead,
    ``lease_id`` the token of the claim that holds it (every change a worker makes names it),
    ``holder`` the process running it (``host:pid``: its supervisor names it when it dies)."""

    __tablename__ = "jobs"
    # Serves the foreign key and each tenant's newest-first listing.
    __table_args__ = (Index("ix_jobs_tenant_created", "tenant_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), index=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    source_kind: Mapped[str] = mapped_column(String(16))
    bucket: Mapped[str] = mapped_column(String(255))
    object_key: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    filename: Mapped[str | None] = mapped_column(Text)
    options: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(index=True)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    lease_until: Mapped[datetime | None]
    lease_id: Mapped[str | None] = mapped_column(String(32))
    holder: Mapped[str | None] = mapped_column(String(64), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    duration_s: Mapped[float | None] = mapped_column(Float)
    processing_s: Mapped[float | None] = mapped_column(Float)
    model_id: Mapped[str | None] = mapped_column(String(255))
    result_key: Mapped[str | None] = mapped_column(Text)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    transcript_metadata: Mapped[dict[str, Any]]


class CallbackAttemptRow(Base):
    """One attempt to deliver a job's callback event."""

    __tablename__ = "callback_attempts"
    __table_args__ = (UniqueConstraint("event_id", "attempt", name="uq_callback_attempt"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[str] = mapped_column(String(160))
    attempt: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime]
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(16))


class CallbackEventRow(Base):
    """A job's callback event in the outbox: written with the job's final state, then
    delivered by whoever claims it when due (``claimed_until`` fences the attempt)."""

    __tablename__ = "callback_events"
    __table_args__ = (Index("ix_callback_events_due", "state", "next_at"),)

    id: Mapped[str] = mapped_column(String(160), primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[datetime]
    claimed_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class ObjectClaimRow(Base):
    """Which job owns an object the service wrote (a seed result, an upload, a transcript):
    only that job may delete it, and no other live job may write it."""

    __tablename__ = "object_claims"

    bucket: Mapped[str] = mapped_column(String(255), primary_key=True)
    key: Mapped[str] = mapped_column(String(1024), primary_key=True)
    job_id: Mapped[str] = mapped_column(String(128), index=True)
    tenant_id: Mapped[str] = mapped_column(String(32))
    claimed_at: Mapped[datetime]
    written: Mapped[bool] = mapped_column(Boolean, default=False)


class SweepRow(Base):
    """Whose turn it is to sweep: the first process to move ``next_at`` on sweeps."""

    __tablename__ = "sweeps"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    next_at: Mapped[datetime]
    holder: Mapped[str | None] = mapped_column(String(64))
