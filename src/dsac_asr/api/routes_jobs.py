"""``/v1/jobs``: create, read, list, fetch transcripts, delete."""

from __future__ import annotations

import contextlib
import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from dsac_asr.api.deps import ApiServices, CurrentTenant, Services
from dsac_asr.api.errors import ApiError, describe_problems
from dsac_asr.api.limits import read_limited
from dsac_asr.api.schemas import JobCreate, JobList, JobOptionsIn, JobOut
from dsac_asr.api.submission import (
    check_capacity,
    check_options,
    new_job_id,
    place_results,
    queue_job,
    source_from,
    store_upload,
)
from dsac_asr.errors import InvalidOptionError, NotFoundError
from dsac_asr.jobs.model import JobStatus, Tenant
from dsac_asr.jobs.results import delete_owned, load_transcript
from dsac_asr.transcript import OutputFormat, render

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])

_CREATE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        **{k: {"type": "string"} for k in JobOptionsIn.model_fields},
                    },
                }
            },
            "application/json": {"schema": {"$ref": "#/components/schemas/JobCreate"}},
        },
    }
}


@router.post(
    "",
    status_code=202,
    response_model=JobOut,
    openapi_extra=_CREATE_BODY,
    summary="Create a job from an upload (multipart), a URL or an object (JSON)",
)
async def create_job(request: Request, svc: Services, tenant: CurrentTenant) -> JobOut:
    """Queue a transcription job; answers 202 with the job."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form()
        return await run_in_threadpool(_create_from_upload, form, svc, tenant)
    limit = int(svc.settings.max_json_kb * 1024)
    body = _parse_json(await read_limited(request, limit))
    return await run_in_threadpool(_create_from_source, body, svc, tenant)


def _create_from_upload(form: Any, svc: ApiServices, tenant: Tenant) -> JobOut:
    """Store the upload and queue its job (blocking I/O: runs in the thread pool)."""
    upload = form.get("file")
    if not hasattr(upload, "file"):
        raise InvalidOptionError("multipart submissions need a 'file' part")
    options = check_options(_options_from_form(form), svc)
    check_capacity(tenant, svc)
    job_id = new_job_id()
    source = store_upload(job_id, upload.file, upload.filename, tenant, svc)
    return JobOut.of(queue_job(job_id, tenant, source, options, svc))


def _create_from_source(body: JobCreate, svc: ApiServices, tenant: Tenant) -> JobOut:
    """Check the URL or object and queue its job (runs in the thread pool)."""
    options = check_options(body, svc)
    check_capacity(tenant, svc)
    source = source_from(body.source, tenant, svc)
    options = place_results(source, options, tenant)
    return JobOut.of(queue_job(new_job_id(), tenant, source, options, svc))


def _parse_json(raw: bytes) -> JobCreate:
    try:
        return JobCreate.model_validate_json(raw)
    except ValidationError as exc:
        raise InvalidOptionError(describe_problems(exc.errors())) from exc


def _options_from_form(form: Any) -> JobOptionsIn:
    fields = {k: v for k, v in form.items() if k != "file" and isinstance(v, str)}
    try:
        if "metadata" in fields:
            fields["metadata"] = json.loads(fields["metadata"])
        return JobOptionsIn.model_validate(fields)
    except json.JSONDecodeError as exc:
        raise InvalidOptionError("metadata must be a JSON object of strings") from exc
    except ValidationError as exc:
        raise InvalidOptionError(describe_problems(exc.errors())) from exc


@router.get("", response_model=JobList, summary="List this tenant's jobs, newest first")
def list_jobs(
    svc: Services,
    tenant: CurrentTenant,
    status: JobStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> JobList:
    """A page of jobs; pass ``next_cursor`` back as ``cursor`` for the next one."""
    jobs, next_cursor = svc.store.list_jobs(tenant.id, status=status, limit=limit, cursor=cursor)
    return JobList(jobs=[JobOut.of(job) for job in jobs], next_cursor=next_cursor)


@router.get("/{job_id}", response_model=JobOut, summary="A job's status and progress")
def get_job(job_id: str, svc: Services, tenant: CurrentTenant) -> JobOut:
    """The job, if it belongs to the caller's tenant (404 otherwise)."""
    job = svc.store.get_job(job_id, tenant.id)
    return JobOut.of(job, svc.store.callback_attempts(job.id))


_FORMAT_HELP = (
    "json (the seed's result shape), txt, srt, vtt, ctm (one line per word), rttm (one line "
    "per speaker turn; only for jobs with diarize, or stereo channels recognised separately), "
    "docx"
)


@router.get(
    "/{job_id}/transcript",
    summary="The transcript in json, txt, srt, vtt, ctm, rttm or docx (409 until finished)",
    responses={
        409: {"description": "The job has not succeeded (yet)"},
        422: {"description": "rttm for a job without speakers (neither diarised nor stereo)"},
    },
)
def get_transcript(
    job_id: str,
    svc: Services,
    tenant: CurrentTenant,
    fmt: Annotated[OutputFormat, Query(alias="format", description=_FORMAT_HELP)] = (
        OutputFormat.JSON
    ),
) -> Response:
    """Render the finished job's transcript. CTM and RTTM name the recording by the job id."""
    job = svc.store.get_job(job_id, tenant.id)
    if job.status is not JobStatus.SUCCEEDED:
        raise ApiError(409, "not_finished", f"job {job_id} is {job.status.value}")
    transcript = load_transcript(svc.objects, svc.settings.internal_bucket, job)
    body = render(transcript, fmt, recording_id=job.id)
    headers = {"Content-Disposition": f'attachment; filename="{job.id}{fmt.extension}"'}
    return Response(body, media_type=fmt.media_type, headers=headers)


@router.delete(
    "/{job_id}", status_code=204, summary="Cancel a job and remove its audio and results"
)
def delete_job(job_id: str, svc: Services, tenant: CurrentTenant) -> Response:
    """Cancel (if queued or running), delete the objects it still owns (never one
    another job wrote since, such as a reused TAG's result), then forget the job."""
    job = svc.store.cancel(job_id, tenant.id)
    delete_owned(svc.store, svc.objects, job)
    with contextlib.suppress(NotFoundError):
        svc.store.delete_job(job.id, tenant.id)
    return Response(status_code=204)
