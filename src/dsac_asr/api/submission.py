"""Turning a submission (upload, URL or object) into a queued job."""

from __future__ import annotations

import dataclasses
import re
import uuid
from datetime import UTC, datetime
from typing import BinaryIO

from dsac_asr.api.deps import ApiServices
from dsac_asr.api.errors import ApiError
from dsac_asr.api.schemas import JobOptionsIn, SourceIn
from dsac_asr.diarization.backends import diarizer_for
from dsac_asr.egress import check_url
from dsac_asr.errors import DsacError, InvalidOptionError, ObjectInUseError, TransientError
from dsac_asr.jobs.model import Job, JobOptions, JobSource, JobStatus, SourceKind, Tenant
from dsac_asr.jobs.results import claim_submission
from dsac_asr.models.languages import normalize_language
from dsac_asr.models.manifest import Band
from dsac_asr.models.registry import RouteRequest

RETRY_AFTER_S = 30
MAX_METADATA_ENTRIES = 32
MAX_METADATA_KEY_BYTES = 64
MAX_METADATA_VALUE_BYTES = 1024
MAX_FILENAME_CHARS = 255
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def new_job_id() -> str:
    """A fresh random job id."""
    return uuid.uuid4().hex


def safe_filename(name: str | None) -> str:
    """A file name safe to use in an object key."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", (name or "audio").rsplit("/", 1)[-1])
    return cleaned.strip("._")[:100] or "audio"


def display_filename(name: str | None) -> str | None:
    """The client's file name as kept on the job: without control characters (NUL
    included) and at most :data:`MAX_FILENAME_CHARS` long; ``None`` if nothing is left."""
    if name is None:
        return None
    cleaned = _CONTROL_CHARS.sub("", name).strip()[:MAX_FILENAME_CHARS]
    return cleaned or None


def check_metadata(metadata: dict[str, str]) -> dict[str, str]:
    """``metadata`` if within :data:`MAX_METADATA_ENTRIES` entries of keys and values
    within their byte limits (UTF-8); else ``InvalidOptionError`` (422)."""
    if len(metadata) > MAX_METADATA_ENTRIES:
        raise InvalidOptionError(f"metadata may have at most {MAX_METADATA_ENTRIES} entries")
    for key, value in metadata.items():
        if not 1 <= len(key.encode()) <= MAX_METADATA_KEY_BYTES:
            raise InvalidOptionError(f"metadata keys are 1 to {MAX_METADATA_KEY_BYTES} bytes")
        if len(value.encode()) > MAX_METADATA_VALUE_BYTES:
            raise InvalidOptionError(
                f"metadata value of {key[:32]!r} is over {MAX_METADATA_VALUE_BYTES} bytes"
            )
    return dict(metadata)


def check_capacity(tenant: Tenant, svc: ApiServices) -> None:
    """429 with Retry-After when the tenant already has its maximum of active jobs."""
    cap = svc.settings.max_active_jobs_per_tenant
    if svc.store.count_active(tenant.id) >= cap:
        message = f"this tenant already has {cap} jobs queued or running; retry later"
        raise ApiError(429, "too_many_jobs", message, {"Retry-After": str(RETRY_AFTER_S)})


def check_options(options: JobOptionsIn, svc: ApiServices) -> JobOptions:
    """Validate options now, so a job that cannot run is refused at submission."""
    language = normalize_language(options.language)
    band = Band.BB if options.band == "auto" else _parse_band(options.band)
    svc.registry.route(RouteRequest(language, band, options.domain, options.model))
    if options.diarize:
        settings = svc.settings  # refused now (501) rather than failing in the worker
        diarizer_for(settings.diarization_backend, settings.diarization_model).require_installed()
    if options.callback_url:
        check_url(options.callback_url, svc.settings.egress_policy)
    checked = {"language": language, "metadata": check_metadata(options.metadata)}
    given = options.model_dump(include=set(JobOptionsIn.model_fields))  # not a JobCreate's source
    return JobOptions(**{**given, **checked})


def _parse_band(band: str) -> Band:
    try:
        return Band.parse(band)
    except ValueError as exc:
        raise InvalidOptionError(str(exc)) from exc


def source_from(given: SourceIn, tenant: Tenant, svc: ApiServices) -> JobSource:
    """The job source for a URL or object reference."""
    if (given.url is None) == (given.object is None):
        raise InvalidOptionError("give exactly one source: {'url': ...} or {'object': {...}}")
    if given.url is not None:
        check_url(given.url, svc.settings.egress_policy)
        return JobSource(SourceKind.URL, tenant.default_bucket, url=given.url)
    assert given.object is not None
    bucket, key = given.object.bucket, given.object.key
    if bucket not in tenant.buckets:
        raise ApiError(403, "bucket_forbidden", f"this key is not granted bucket {bucket!r}")
    if not svc.objects.exists(bucket, key):
        raise ApiError(422, "object_not_found", f"no object {key!r} in bucket {bucket!r}")
    return JobSource(SourceKind.OBJECT, bucket, key=key, filename=key.rsplit("/", 1)[-1])


def place_results(source: JobSource, options: JobOptions, tenant: Tenant) -> JobOptions:
    """Results go beside the audio when the tenant may write that bucket, else to its
    default bucket; a private job needs to write (delete) its audio's bucket (403)."""
    if source.kind is not SourceKind.OBJECT or tenant.can_write(source.bucket):
        return options
    if options.private:
        message = (
            f"bucket {source.bucket!r} is granted read-only to this key: "
            "a private job could not delete its audio"
        )
        raise ApiError(403, "bucket_read_only", message)
    return dataclasses.replace(options, result_bucket=tenant.default_bucket)


def store_upload(
    job_id: str, stream: BinaryIO, filename: str | None, tenant: Tenant, svc: ApiServices
) -> JobSource:
    """Put an uploaded file into the tenant's bucket."""
    name = safe_filename(filename)
    key = f"uploads/{job_id}/{name}"
    limit = svc.settings.media_limits.max_size_bytes
    svc.objects.put_stream(tenant.default_bucket, key, stream, max_bytes=limit)
    shown = display_filename(filename)
    return JobSource(SourceKind.UPLOAD, tenant.default_bucket, key=key, filename=shown)


def queue_job(
    job_id: str, tenant: Tenant, source: JobSource, options: JobOptions, svc: ApiServices
) -> Job:
    """Record the job and put it on the queue."""
    job = Job(
        id=job_id,
        tenant_id=tenant.id,
        status=JobStatus.QUEUED,
        source=source,
        options=options,
        created_at=datetime.now(UTC),
    )
    try:
        created = svc.store.create_job(job)
    except DsacError:
        _discard_upload(source, svc)
        raise
    try:
        claim_submission(svc.store, created)  # a TAG another live job uses: 409
        svc.enqueue(job_id)
    except (TransientError, ObjectInUseError):
        svc.store.release_objects(job_id)
        svc.store.delete_job(job_id, tenant.id)
        _discard_upload(source, svc)
        raise
    return created


def _discard_upload(source: JobSource, svc: ApiServices) -> None:
    """Remove the upload of a job that was not queued (an object the tenant named stays)."""
    if source.kind is SourceKind.UPLOAD and source.key is not None:
        svc.objects.delete(source.bucket, source.key)
