"""Request and response bodies of the native API (documented in OpenAPI)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from dsac_asr.jobs.model import CallbackAttempt, Job, JobStatus
from dsac_asr.options import MAX_PROMPT_CHARS


class JobOptionsIn(BaseModel):
    """Transcription options a client may set on a job."""

    language: str = Field("eng", description="eng, afr, zul, sot (sto), xho, ... or mul")
    band: str = Field("auto", description="auto, nb (8 kHz) or bb (16 kHz)")
    channels: Literal["auto", "mix", "separate"] = "auto"
    domain: str | None = Field(None, description="A domain an installed model has, e.g. PARL")
    model: str | None = Field(None, description="A model id from GET /v1/models")
    diarize: bool = False
    speakers: int | None = Field(None, ge=1, le=32)
    punctuate: bool = True
    prompt: str | None = Field(
        default=None,
        max_length=MAX_PROMPT_CHARS,
        description="Whisper models: text that conditions decoding (names, spellings, style), "
        "read after the domain's prompt; Kaldi and CTC models ignore it",
    )
    temperature: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="Whisper models: sampling temperature; unset: the default",
    )
    private: bool = Field(False, description="Delete the audio after a successful transcription")
    callback_url: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict, description="Echoed back as given")


class ObjectRef(BaseModel):
    """An object in a bucket the tenant was granted."""

    bucket: str
    key: str


class SourceIn(BaseModel):
    """Exactly one of ``url`` or ``object``."""

    url: str | None = None
    object: ObjectRef | None = None


class JobCreate(JobOptionsIn):
    """A job from a URL or an object already in the store (uploads use multipart)."""

    source: SourceIn


class ErrorOut(BaseModel):
    """Why a job failed."""

    code: str
    message: str


class SourceOut(BaseModel):
    """Where the job's audio came from."""

    kind: str
    bucket: str
    key: str | None = None
    url: str | None = None
    filename: str | None = None


class ResultOut(BaseModel):
    """Where the seed-shaped result JSON was written."""

    bucket: str
    key: str


class CallbackAttemptOut(BaseModel):
    """One delivery attempt of the job's callback."""

    attempt: int
    at: datetime
    status_code: int | None
    error: str | None
    outcome: str


class CallbackOut(BaseModel):
    """Where the callback goes and how delivering it went (attempts only on GET of one job)."""

    url: str
    delivered: bool
    attempts: list[CallbackAttemptOut]


class JobOut(BaseModel):
    """A job's state."""

    id: str
    status: JobStatus
    progress: float
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_s: float | None
    processing_s: float | None
    model: str | None
    options: JobOptionsIn
    source: SourceOut
    result: ResultOut | None
    error: ErrorOut | None
    transcript_metadata: dict[str, str]
    callback: CallbackOut | None = None

    @classmethod
    def of(cls, job: Job, attempts: list[CallbackAttempt] | None = None) -> JobOut:
        """The API view of a stored job."""
        o, s = job.options, job.source
        succeeded = job.status is JobStatus.SUCCEEDED and job.result_key is not None
        return cls(
            id=job.id,
            status=job.status,
            progress=1.0 if job.status is JobStatus.SUCCEEDED else round(job.progress, 3),
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            duration_s=job.duration_s,
            processing_s=job.processing_s,
            model=job.model_id,
            options=JobOptionsIn.model_validate(asdict(o)),
            source=SourceOut(
                kind=s.kind.value, bucket=s.bucket, key=s.key, url=s.url, filename=s.filename
            ),
            result=ResultOut(bucket=job.result_bucket, key=job.result_key)
            if succeeded and job.result_key
            else None,
            error=ErrorOut(code=job.error.code, message=job.error.message) if job.error else None,
            transcript_metadata=job.transcript_metadata,
            callback=_callback_view(job, attempts or []),
        )


def _callback_view(job: Job, attempts: list[CallbackAttempt]) -> CallbackOut | None:
    if not job.options.callback_url:
        return None
    views = [
        CallbackAttemptOut(
            attempt=a.attempt, at=a.at, status_code=a.status_code, error=a.error, outcome=a.outcome
        )
        for a in attempts
    ]
    delivered = any(a.outcome == "delivered" for a in attempts)
    return CallbackOut(url=job.options.callback_url, delivered=delivered, attempts=views)


class JobList(BaseModel):
    """A page of jobs, newest first."""

    jobs: list[JobOut]
    next_cursor: str | None


class ModelOut(BaseModel):
    """An installed model."""

    id: str
    engine: str
    languages: list[str]
    band: str
    sample_rate_hz: int = Field(description="The rate the model takes audio at (Hz)")
    domain: str | None
    domains: list[str]
    version: str
    source: str
    quality: dict[str, str] = Field(
        default_factory=dict, description="A note per language on how well the model serves it"
    )
