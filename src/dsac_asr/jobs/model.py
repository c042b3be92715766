"""The job service's domain types: tenants, keys and jobs (no library imports)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from dsac_asr.options import TranscriptionOptions


class JobStatus(StrEnum):
    """Where a job is in its life."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        """True once the job will not change any more."""
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


class SourceKind(StrEnum):
    """Where a job's audio comes from."""

    UPLOAD = "upload"
    URL = "url"
    OBJECT = "object"


@dataclass(frozen=True)
class JobOptions(TranscriptionOptions):
    """What the client asked for: the transcription options (handed to the pipeline as
    they are) plus the service's own: privacy, callback, metadata, the seed's fields."""

    private: bool = False
    callback_url: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    tag: str | None = None
    user_id: str | None = None
    callback_style: str = "native"
    callback_api_key: str | None = None  # sealed (callbacks.sealing), erased when done
    result_bucket: str | None = None  # None: beside the audio (the source's bucket)


@dataclass(frozen=True)
class JobSource:
    """The job's input: an object in the store (uploads land there too) or a URL."""

    kind: SourceKind
    bucket: str
    key: str | None = None
    url: str | None = None
    filename: str | None = None


@dataclass(frozen=True)
class JobError:
    """Why a job failed: a stable code and a message for people."""

    code: str
    message: str


@dataclass(frozen=True)
class Job:
    """One transcription job as stored."""

    id: str
    tenant_id: str
    status: JobStatus
    source: JobSource
    options: JobOptions
    created_at: datetime
    progress: float = 0.0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration_s: float | None = None
    processing_s: float | None = None
    model_id: str | None = None
    result_key: str | None = None
    error: JobError | None = None
    attempts: int = 0
    transcript_metadata: dict[str, str] = field(default_factory=dict)
    lease_id: str | None = None
    """The token of the claim running the job (None unless running); see ``JobStore.claim``."""
    holder: str | None = None
    """The process running the job (``host:pid``; None unless running)."""

    @property
    def result_bucket(self) -> str:
        """Where the job's seed-shaped result is written: beside the audio, unless the
        audio's bucket is granted read-only (then the tenant's default bucket)."""
        return self.options.result_bucket or self.source.bucket


@dataclass(frozen=True)
class CallbackAttempt:
    """One try at delivering a job's callback: when, and what came back."""

    event_id: str
    attempt: int
    at: datetime
    status_code: int | None
    error: str | None
    outcome: str  # "delivered", "retry" or "gone"


@dataclass(frozen=True)
class Tenant:
    """A customer: owns jobs, reads the buckets it was granted and writes results to
    those not granted read-only."""

    id: str
    name: str
    buckets: tuple[str, ...]
    webhook_secret: str
    created_at: datetime
    read_only: frozenset[str] = frozenset()

    def can_write(self, bucket: str) -> bool:
        """Whether results may be written to (and audio deleted from) ``bucket``."""
        return bucket in self.buckets and bucket not in self.read_only

    @property
    def default_bucket(self) -> str:
        """The bucket uploads and results go to: the first granted for writing, else
        one of its own."""
        writable = [bucket for bucket in self.buckets if bucket not in self.read_only]
        return writable[0] if writable else f"tenant-{self.name}"


@dataclass(frozen=True)
class ApiKey:
    """A stored key: only its SHA-256 hash and a short prefix to recognise it by."""

    id: str
    tenant_id: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None = None
