"""``POST /v1/audio/transcriptions``: OpenAI's audio API over the job service.

The file becomes an ordinary job of the caller's tenant (same store, queue,
workers, limits and batching); the request waits for it without blocking the
event loop and answers with its transcript in the format asked for. Files
longer than ``DSAC_OPENAI_MAX_DURATION_S`` are refused (413) with a pointer to
``/v1/jobs``. The job is private: its audio is deleted once transcribed, its
transcript stays listed under ``/v1/jobs``.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response, UploadFile
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.concurrency import run_in_threadpool

from dsac_asr.api.deps import ApiServices, CurrentTenant, Services
from dsac_asr.api.openai_errors import OpenAIApiError, OpenAIRoute
from dsac_asr.api.openai_schemas import (
    OPENAI_MODEL,
    Granularity,
    OpenAIError,
    ResponseFormat,
    TranscriptionOut,
    verbose_transcription,
)
from dsac_asr.api.schemas import JobOptionsIn
from dsac_asr.api.submission import (
    check_capacity,
    check_options,
    new_job_id,
    queue_job,
    store_upload,
)
from dsac_asr.audio.probe import format_seconds, probe
from dsac_asr.errors import DsacError, InputError, NotFoundError
from dsac_asr.jobs.model import Job, JobStatus, Tenant
from dsac_asr.jobs.results import delete_private_audio, load_transcript
from dsac_asr.options import MAX_PROMPT_CHARS
from dsac_asr.storage.local import copy_limited
from dsac_asr.transcript import OutputFormat, Transcript, render

router = APIRouter(prefix="/v1/audio", tags=["openai"], route_class=OpenAIRoute)

_PROMPT = "Whisper models: conditions decoding (names, spellings), after the domain's prompt"
_TEMPERATURE = "Whisper models: sampling temperature; unset: Whisper's fallback from 0"
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": OpenAIError} for code in (400, 401, 404, 413, 429, 500, 503, 504)
}


@router.post(
    "/transcriptions",
    response_model=None,
    responses={200: {"description": "The transcript in the format asked for"}, **_ERRORS},
    summary="OpenAI-compatible transcription (synchronous, for files up to 10 min by default)",
)
async def create_transcription(
    request: Request,
    svc: Services,
    tenant: CurrentTenant,
    file: UploadFile,
    model: Annotated[str, Form()] = OPENAI_MODEL,
    language: Annotated[str, Form(description="ISO 639-1 (en, af, zu) or 639-3")] = "eng",
    prompt: Annotated[str | None, Form(max_length=MAX_PROMPT_CHARS, description=_PROMPT)] = None,
    response_format: Annotated[ResponseFormat, Form()] = ResponseFormat.JSON,
    temperature: Annotated[float | None, Form(ge=0, le=1, description=_TEMPERATURE)] = None,
    timestamp_granularities: Annotated[
        list[Granularity] | None, Form(alias="timestamp_granularities[]")
    ] = None,
) -> Response:
    """Transcribe ``file`` through a job of the caller's tenant and answer with its text."""
    options = JobOptionsIn.model_validate(
        {
            "language": language,
            "model": None if model == OPENAI_MODEL else model,
            "prompt": prompt or None,
            "temperature": temperature,
            "private": True,
            "metadata": {"api": "openai"},
        }
    )
    job = await run_in_threadpool(_submit, file, options, svc, tenant)
    done = await _wait(request, job, svc)
    transcript = await run_in_threadpool(_transcript, done, svc)
    return _render(transcript, response_format, set(timestamp_granularities or []), done.id)


def _submit(upload: UploadFile, given: JobOptionsIn, svc: ApiServices, tenant: Tenant) -> Job:
    """Check the options and the file's duration, store it and queue its job (blocking)."""
    options = check_options(given, svc)
    check_capacity(tenant, svc)
    limits = svc.settings.media_limits
    with tempfile.TemporaryDirectory(prefix="dsac-openai-") as folder:
        path = Path(folder) / "upload"
        with path.open("wb") as out:
            copy_limited(upload.file, out, limits.max_size_bytes)
        _check_sync_duration(probe(path, limits).duration_s, svc.settings.openai_max_duration_s)
        job_id = new_job_id()
        with path.open("rb") as stored:
            source = store_upload(job_id, stored, upload.filename, tenant, svc)
    return queue_job(job_id, tenant, source, options, svc)


def _check_sync_duration(duration_s: float | None, max_s: float) -> None:
    if duration_s is not None and duration_s > max_s:
        raise OpenAIApiError(
            413,
            "audio_too_long",
            f"the file is {format_seconds(duration_s)} long; this route answers synchronously "
            f"for up to {format_seconds(max_s)}: submit it to POST /v1/jobs and poll "
            "GET /v1/jobs/{id} instead",
            "file",
        )


async def _wait(request: Request, job: Job, svc: ApiServices) -> Job:
    """Poll the job until it is final (cancelling it if the client goes away)."""
    deadline = time.monotonic() + svc.settings.openai_wait_s
    pause_s = 0.1
    while True:
        current = await run_in_threadpool(svc.store.get_job, job.id, job.tenant_id)
        if current.status.is_final:
            return _succeeded(current)
        if await request.is_disconnected():
            await run_in_threadpool(_cancel_quietly, job, svc)
            raise OpenAIApiError(499, "client_closed", "the client closed the request")
        if time.monotonic() > deadline:
            status = current.status.value
            message = f"job {job.id} is still {status}: follow it at /v1/jobs/{job.id}"
            raise OpenAIApiError(504, "timeout", message)
        await asyncio.sleep(pause_s)
        pause_s = min(pause_s * 1.5, 1.0)


def _cancel_quietly(job: Job, svc: ApiServices) -> None:
    """Cancel the job of a client that went away, and delete the audio it uploaded
    (the job is private: nobody is left to fetch its result, or its audio)."""
    with contextlib.suppress(DsacError):
        cancelled = svc.store.cancel(job.id, job.tenant_id)
        if cancelled.status is JobStatus.CANCELLED:
            delete_private_audio(svc.store, svc.objects, cancelled)


def _succeeded(job: Job) -> Job:
    """The job if it succeeded, else the error that says why not."""
    if job.status is JobStatus.SUCCEEDED:
        return job
    if job.status is JobStatus.CANCELLED:
        raise OpenAIApiError(409, "cancelled", f"job {job.id} was cancelled")
    code = job.error.code if job.error else "internal_error"
    message = job.error.message if job.error else f"job {job.id} failed"
    if code in _input_error_codes():
        raise OpenAIApiError(400, code, message, _param_for(code))
    raise OpenAIApiError(500, code, message)


def _input_error_codes() -> set[str]:
    """The codes of every error that blames the request (the file or an option)."""
    found: set[str] = set()
    pending: list[type[DsacError]] = [InputError]
    while pending:
        kind = pending.pop()
        found.add(kind.code)
        pending.extend(kind.__subclasses__())
    return found


def _param_for(code: str) -> str | None:
    return {"unknown_language": "language", "invalid_option": None}.get(code, "file")


def _transcript(job: Job, svc: ApiServices) -> Transcript:
    try:
        return load_transcript(svc.objects, svc.settings.internal_bucket, job)
    except NotFoundError as exc:
        raise OpenAIApiError(500, "result_missing", f"job {job.id} has no transcript") from exc


def _render(
    transcript: Transcript, fmt: ResponseFormat, granularities: set[Granularity], job_id: str
) -> Response:
    headers = {"X-Job-Id": job_id}
    if fmt is ResponseFormat.JSON:
        return JSONResponse(TranscriptionOut(text=transcript.text).model_dump(), headers=headers)
    if fmt is ResponseFormat.VERBOSE_JSON:
        body = verbose_transcription(transcript, granularities).model_dump(exclude_none=True)
        return JSONResponse(body, headers=headers)
    if fmt is ResponseFormat.TEXT:
        return PlainTextResponse(transcript.text + "\n", headers=headers)
    subtitles = OutputFormat.SRT if fmt is ResponseFormat.SRT else OutputFormat.VTT
    text = render(transcript, subtitles, recording_id=job_id).decode("utf-8")
    return PlainTextResponse(text, headers=headers)
