"""Job callbacks: the event a finished job sends to its ``callback_url``.

Native jobs get a JSON body signed the Standard Webhooks way; seed-style jobs
(the header protocol) get the seed's multipart POST with the result JSON as
form field ``file``. The event id is fixed per job and outcome, so every
attempt carries the same ``webhook-id`` and a receiver can deduplicate.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from dsac_asr.callbacks import AttemptResult, Outcome, deliver_once, next_delay_s, should_retry
from dsac_asr.egress import EgressPolicy
from dsac_asr.jobs.model import CallbackAttempt, Job, JobStatus
from dsac_asr.jobs.store import JobStore
from dsac_asr.storage.base import ObjectStore
from dsac_asr.webhooks import webhook_headers

NOTIFIED = (JobStatus.SUCCEEDED, JobStatus.FAILED)


@dataclass(frozen=True)
class CallbackSettings:
    """How callbacks are delivered."""

    policy: EgressPolicy
    timeout_s: float = 10.0
    backoff_s: float = 5.0
    max_attempts: int = 8


def event_id(job: Job) -> str:
    """The id of the job's callback event, the same on every attempt."""
    return f"msg_{job.id}_{job.status.value}"


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
        "result": {"bucket": job.source.bucket, "key": job.result_key} if job.result_key else None,
        "error": {"code": job.error.code, "message": job.error.message} if job.error else None,
        "metadata": dict(job.options.metadata),
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _result_json(job: Job, objects: ObjectStore) -> bytes | None:
    if job.status is not JobStatus.SUCCEEDED or job.result_key is None:
        return None
    return objects.get_bytes(job.source.bucket, job.result_key)


def native_body(job: Job, result: bytes | None) -> bytes:
    """The JSON body of a native callback."""
    data: dict[str, Any] = {"job": job_view(job)}
    if result is not None:
        data["transcript"] = json.loads(result)
    body = {"type": f"job.{job.status.value}", "data": data}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _seed_error_body(error: dict[str, str]) -> bytes:
    """The error, beside an empty seed-shaped result: the front end reads ``results``
    whatever ``STATUS`` says, so it must find one."""
    empty = {"alternatives": [{"transcript": "", "confidence": 0.0, "words": []}]}
    return json.dumps({"results": [empty], "error": error}).encode("utf-8")


def seed_request(job: Job, result: bytes | None) -> tuple[bytes, dict[str, str]]:
    """The seed's multipart callback: the result JSON (or the error) as field ``file``."""
    succeeded = job.status is JobStatus.SUCCEEDED
    error = {"code": job.error.code, "message": job.error.message} if job.error else {}
    payload = result if succeeded and result is not None else _seed_error_body(error)
    name = f"{job.options.tag or job.id}.json"
    request = httpx.Request(
        "POST", "http://callback", files={"file": (name, payload, "application/json")}
    )
    headers = {
        "content-type": request.headers["content-type"],
        "X-API-KEY": job.options.callback_api_key or "",
        "USER-ID": job.options.user_id or "",
        "JOB-ID": job.options.metadata.get("seed_job_id", job.options.tag or job.id),
        "S3-PATH": job.result_key or "",
        "STATUS": "SUCCESS" if succeeded else "ERROR",
    }
    return request.read(), headers


def _request(job: Job, secret: str, objects: ObjectStore) -> tuple[bytes, dict[str, str]]:
    result = _result_json(job, objects)
    if job.options.callback_style == "seed":
        body, headers = seed_request(job, result)
    else:
        body, headers = native_body(job, result), {"content-type": "application/json"}
    return body, {**headers, **webhook_headers(secret, event_id(job), body, int(time.time()))}


def deliver_callback(
    job_id: str, attempt: int, store: JobStore, objects: ObjectStore, settings: CallbackSettings
) -> float | None:
    """Make one delivery attempt; return the delay before the next one, or None when done."""
    job = store.get_job(job_id, None)
    if job.status not in NOTIFIED or not job.options.callback_url:
        return None
    if store.event_delivered(event_id(job)):
        return None
    secret = store.get_tenant(job.tenant_id).webhook_secret
    body, headers = _request(job, secret, objects)
    result = deliver_once(
        job.options.callback_url, body, headers, settings.policy, settings.timeout_s
    )
    store.record_attempt(job.id, _attempt(job, attempt, result))
    if not should_retry(result, attempt, settings.max_attempts):
        return None
    return next_delay_s(attempt, settings.backoff_s, random.SystemRandom())


def _attempt(job: Job, number: int, result: AttemptResult) -> CallbackAttempt:
    outcome = result.outcome.value if isinstance(result.outcome, Outcome) else str(result.outcome)
    return CallbackAttempt(
        event_id(job), number, result.at, result.status_code, result.error, outcome
    )
