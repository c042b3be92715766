"""``GET /v1/jobs/{id}/audio``: the job's stored upload, to its own tenant, with Range support.

The web page plays it beside the transcript. Only audio the service stored
is served (uploads and objects in the tenant's buckets); a URL source was
never stored, and a private job's audio is deleted once it succeeds.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Header, Response
from fastapi.responses import StreamingResponse

from dsac_asr.api.deps import CurrentTenant, Services
from dsac_asr.api.errors import ApiError
from dsac_asr.api.submission import safe_filename
from dsac_asr.errors import NotFoundError
from dsac_asr.jobs.model import Job, JobStatus, SourceKind
from dsac_asr.storage import ObjectStore

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])

CHUNK_BYTES = 1024 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


@dataclass(frozen=True)
class ByteRange:
    """An inclusive byte range of an object of ``size`` bytes."""

    start: int
    end: int
    size: int

    @property
    def length(self) -> int:
        """How many bytes the range holds."""
        return self.end - self.start + 1


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The single range a ``Range`` header asks for; ``None`` for the whole object.

    Several ranges, or a header in another unit, are answered with the whole
    object (a server may ignore ``Range``); a range that starts past the end
    raises 416.
    """
    if header is None:
        return None
    match = _RANGE.match(header.strip())
    if match is None or match.group(1) == match.group(2) == "":
        return None
    first, last = match.group(1), match.group(2)
    if first == "":
        start, end = max(size - int(last), 0), size - 1
    else:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        raise ApiError(
            416,
            "range_not_satisfiable",
            f"the audio has {size} bytes; {header!r} asks for none of them",
            {"Content-Range": f"bytes */{size}"},
        )
    return ByteRange(start, end, size)


@router.get(
    "/{job_id}/audio",
    summary="The job's stored audio (Range requests supported)",
    responses={
        206: {"description": "The requested byte range"},
        404: {"description": "No such job for this tenant, or its audio was never stored"},
        410: {"description": "The audio was deleted (a private job after success)"},
    },
)
def get_audio(
    job_id: str,
    svc: Services,
    tenant: CurrentTenant,
    range_header: Annotated[str | None, Header(alias="Range")] = None,
) -> Response:
    """Stream the audio the job was made from, whole or the one byte range asked for."""
    job = svc.store.get_job(job_id, tenant.id)
    key = _stored_key(job)
    try:
        size = svc.objects.size(job.source.bucket, key)
    except NotFoundError as exc:
        raise _gone(job) from exc
    wanted = parse_range(range_header, size)
    part = wanted or ByteRange(0, size - 1, size)
    headers = {
        "Accept-Ranges": "bytes",
        "Content-Length": str(part.length if size else 0),
        "Cache-Control": "private, no-store",
        "Content-Disposition": f'inline; filename="{safe_filename(job.source.filename)}"',
    }
    if wanted is not None:
        headers["Content-Range"] = f"bytes {part.start}-{part.end}/{size}"
    return StreamingResponse(
        _chunks(svc.objects, job.source.bucket, key, part),
        status_code=206 if wanted is not None else 200,
        media_type=_media_type(job),
        headers=headers,
    )


def _stored_key(job: Job) -> str:
    """The object key of the job's audio, or the error saying why there is none."""
    if job.source.kind is SourceKind.URL or job.source.key is None:
        raise ApiError(
            404,
            "audio_not_stored",
            f"job {job.id} was made from a URL: its audio was fetched for it, never stored",
        )
    return job.source.key


def _gone(job: Job) -> ApiError:
    if job.options.private and job.status is JobStatus.SUCCEEDED:
        message = f"job {job.id} is private: its audio was deleted after transcription"
        return ApiError(410, "audio_deleted", message)
    return ApiError(410, "audio_gone", f"the audio of job {job.id} is no longer stored")


def _media_type(job: Job) -> str:
    guessed, _ = mimetypes.guess_type(job.source.filename or job.source.key or "")
    return guessed or "application/octet-stream"


def _chunks(objects: ObjectStore, bucket: str, key: str, part: ByteRange) -> Iterator[bytes]:
    """The range's bytes, a chunk at a time (blocking reads: Starlette runs them in a thread)."""
    position, remaining = part.start, part.length if part.size else 0
    while remaining > 0:
        chunk = objects.read_range(bucket, key, position, min(CHUNK_BYTES, remaining))
        if not chunk:
            return
        yield chunk
        position += len(chunk)
        remaining -= len(chunk)
