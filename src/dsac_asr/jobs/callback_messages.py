"""What a finished job's callback says: the body and headers of one event.

Native jobs get a JSON body signed the Standard Webhooks way; seed-style jobs
(the header protocol) get the seed's multipart POST with the result JSON as
form field ``file``. The ``webhook-id`` is the event's id, the same on every
attempt, so a receiver can deduplicate.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import httpx

from dsac_asr.callbacks.webhooks import webhook_headers
from dsac_asr.jobs.model import Job, JobError, JobStatus

NOTIFIED = (JobStatus.SUCCEEDED, JobStatus.FAILED)
"""The final states that call back (a cancelled job's client asked for it: no callback)."""
PLACEHOLDER_WORD = "[failed]"


def job_view(job: Job) -> dict[str, Any]:
    """The job as the callback reports it."""
    return {
        "id": job.id,
        "status": job.status.value,
        "created_at": _iso(job.created_at),
        "started_at": _iso(job.started_at),
        "finished_at": _iso(job.finished_at),
        "duration_s": job.duration_s,
        "model": job.model_id,
        "result": {"bucket": job.result_bucket, "key": job.result_key} if job.result_key else None,
        "error": {"code": job.error.code, "message": job.error.message} if job.error else None,
        "metadata": dict(job.options.metadata),
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def native_body(job: Job, result: bytes | None) -> bytes:
    """The JSON body of a native callback."""
    data: dict[str, Any] = {"job": job_view(job)}
    if result is not None:
        data["transcript"] = json.loads(result)
    body = {"type": f"job.{job.status.value}", "data": data}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def failure_sentence(error: JobError | None) -> str:
    """The failure in plain words, for a person reading the front end's transcript."""
    reason = (error.message if error else "").strip().rstrip(".")
    if not reason:
        return "Transcription failed."
    return f"Transcription failed: {reason}."


def seed_error_body(error: JobError | None) -> bytes:
    """A seed-shaped result the front end renders (as it renders its own "Upload
    failure."): the failure as the transcript, one placeholder word with every field
    a word has (it indexes the first word), and the error's code and message."""
    word = {"startTime": 0.0, "endTime": 0.0, "word": PLACEHOLDER_WORD,
            "confidence": 0.0, "speaker": "A"}  # fmt: skip
    alternative = {"transcript": failure_sentence(error), "confidence": 0.0, "words": [word]}
    detail = {"code": error.code, "message": error.message} if error else {}
    return json.dumps({"results": [{"alternatives": [alternative]}], "error": detail}).encode()


def seed_request(
    job: Job, result: bytes | None, api_key: str | None
) -> tuple[bytes, dict[str, str]]:
    """The seed's multipart callback: the result JSON (or the failure) as field ``file``."""
    succeeded = job.status is JobStatus.SUCCEEDED
    payload = result if succeeded and result is not None else seed_error_body(job.error)
    name = f"{job.options.tag or job.id}.json"
    request = httpx.Request(
        "POST", "http://callback", files={"file": (name, payload, "application/json")}
    )
    headers = {
        "content-type": request.headers["content-type"],
        "X-API-KEY": api_key or "",
        "USER-ID": job.options.user_id or "",
        "JOB-ID": job.options.metadata.get("seed_job_id", job.options.tag or job.id),
        "S3-PATH": job.result_key or "",
        "STATUS": "SUCCESS" if succeeded else "ERROR",
    }
    return request.read(), headers


def build_request(
    job: Job, event_id: str, result: bytes | None, secret: str, api_key: str | None, now_s: int
) -> tuple[bytes, dict[str, str]]:
    """Body and headers of one attempt: the job's style, signed with the tenant's secret."""
    if job.options.callback_style == "seed":
        body, headers = seed_request(job, result, api_key)
    else:
        body, headers = native_body(job, result), {"content-type": "application/json"}
    return body, {**headers, **webhook_headers(secret, event_id, body, now_s)}
