"""Conversions between table rows and the domain dataclasses of ``jobs/model.py``."""

from __future__ import annotations

import base64
import binascii
from dataclasses import asdict, fields
from datetime import datetime
from typing import Any

from dsac_asr.errors import InvalidOptionError
from dsac_asr.jobs.model import (
    ApiKey,
    Job,
    JobError,
    JobOptions,
    JobSource,
    JobStatus,
    SourceKind,
    Tenant,
)
from dsac_asr.jobs.tables import ApiKeyRow, JobRow, TenantRow

_OPTION_FIELDS = frozenset(field.name for field in fields(JobOptions))


READ_ONLY_SUFFIX = ":ro"
"""A stored grant ``B:ro`` is read-only; a plain ``B`` (as before) reads and writes."""


def tenant_from_row(row: TenantRow) -> Tenant:
    """The ``Tenant`` a row stores."""
    names = tuple(grant.removesuffix(READ_ONLY_SUFFIX) for grant in row.buckets)
    read_only = frozenset(
        grant.removesuffix(READ_ONLY_SUFFIX)
        for grant in row.buckets
        if grant.endswith(READ_ONLY_SUFFIX)
    )
    return Tenant(row.id, row.name, names, row.webhook_secret, row.created_at, read_only)


def key_from_row(row: ApiKeyRow) -> ApiKey:
    """The ``ApiKey`` a row stores (never its hash)."""
    return ApiKey(row.id, row.tenant_id, row.prefix, row.created_at, row.revoked_at)


def options_from_json(data: dict[str, Any]) -> JobOptions:
    """``JobOptions`` from stored JSON; keys this version does not know are ignored."""
    known = {name: value for name, value in data.items() if name in _OPTION_FIELDS}
    known["metadata"] = dict(known.get("metadata") or {})
    return JobOptions(**known)


def job_from_row(row: JobRow) -> Job:
    """The ``Job`` a row stores."""
    error = JobError(row.error_code, row.error_message or "") if row.error_code else None
    source = JobSource(
        SourceKind(row.source_kind), row.bucket, row.object_key, row.url, row.filename
    )
    return Job(
        id=row.id,
        tenant_id=row.tenant_id,
        status=JobStatus(row.status),
        source=source,
        options=options_from_json(row.options),
        created_at=row.created_at,
        progress=float(row.progress),
        started_at=row.started_at,
        finished_at=row.finished_at,
        duration_s=_float(row.duration_s),
        processing_s=_float(row.processing_s),
        model_id=row.model_id,
        result_key=row.result_key,
        error=error,
        attempts=row.attempts,
        transcript_metadata=dict(row.transcript_metadata),
        lease_id=row.lease_id,
        holder=row.holder,
    )


def _float(value: float | None) -> float | None:
    # SQLite may hand back REAL values without a fraction as int (seen with RETURNING).
    return None if value is None else float(value)


def row_from_job(job: Job) -> JobRow:
    """A new row holding ``job``."""
    return JobRow(
        id=job.id,
        tenant_id=job.tenant_id,
        status=job.status.value,
        progress=job.progress,
        source_kind=job.source.kind.value,
        bucket=job.source.bucket,
        object_key=job.source.key,
        url=job.source.url,
        filename=job.source.filename,
        options=asdict(job.options),
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        attempts=job.attempts,
        duration_s=job.duration_s,
        processing_s=job.processing_s,
        model_id=job.model_id,
        result_key=job.result_key,
        error_code=job.error.code if job.error else None,
        error_message=job.error.message if job.error else None,
        transcript_metadata=dict(job.transcript_metadata),
        lease_id=job.lease_id,
        holder=job.holder,
    )


def encode_cursor(created_at: datetime, job_id: str) -> str:
    """An opaque cursor for the position just after the job (``created_at``, ``job_id``)."""
    raw = f"{created_at.isoformat()}|{job_id}".encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (``created_at``, ``job_id``) a cursor holds; ``InvalidOptionError`` if malformed."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, job_id = raw.split("|", 1)
        created_at = datetime.fromisoformat(stamp)
    except (binascii.Error, UnicodeDecodeError, ValueError) as error:
        raise InvalidOptionError("invalid page cursor") from error
    if created_at.tzinfo is None or not job_id:
        raise InvalidOptionError("invalid page cursor")
    return created_at, job_id
