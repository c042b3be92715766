"""``POST /legacy/decode``: the seed's header protocol, which the existing front end speaks.

The job is described by request headers (``legacy_headers``); the body is
ignored. Missing or bad headers answer 400 naming the header, a wrong key 401,
success 200 with the job. The result goes to ``decoded/<TAG>.json`` in
``BUCKET_NAME``; with ``RETURN_URL`` the job is called back the seed's way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

from dsac_asr.api.deps import ApiServices, Services
from dsac_asr.api.errors import ApiError
from dsac_asr.api.legacy_headers import (
    API_KEY,
    SeedRequest,
    api_key_from,
    normalize_headers,
    parse_seed_headers,
)
from dsac_asr.api.schemas import JobOptionsIn, ResultOut
from dsac_asr.api.submission import check_capacity, check_options, new_job_id, queue_job
from dsac_asr.callbacks.sealing import secret_box
from dsac_asr.egress import check_url
from dsac_asr.errors import (
    InputError,
    KeyRefusedError,
    ModelNotFoundError,
    NoModelForRequestError,
)
from dsac_asr.jobs.model import Job, JobOptions, JobSource, JobStatus, SourceKind, Tenant
from dsac_asr.jobs.runner import result_key

SEED_CALLBACK_STYLE = "seed"
SEED_JOB_ID = "seed_job_id"
"""``JobOptions.metadata`` key holding the client's ``JOB_ID`` (sent back as ``JOB-ID``)."""

router = APIRouter(prefix="/legacy", tags=["seed protocol"])

_HEADERS_DOC = (
    (API_KEY, True, "API key (dsac-asr keys create)"),
    ("DEC_LANG", True, "eng, afr, zul, sto (sot), mul, or another installed language"),
    ("SR", True, "NB (8 kHz telephone), BB (16 kHz), or 8000 / 16000"),
    ("NUM_CHANNELS", True, "1 (channels split only if the audio shows two sides) or 2"),
    ("SAC", True, "yes/no: punctuation and capitalisation"),
    ("DIA", True, "yes/no: diarisation"),
    ("BUCKET_NAME", True, "a bucket granted to the key: audio source and result bucket"),
    ("OBJECT_PATH", True, "the audio's key in BUCKET_NAME (not needed with OBJECT_URL)"),
    ("USER_ID", True, "the client's user, sent back as USER-ID"),
    ("NUM_SPK", False, "speakers for diarisation (default 1; 0 or -1: unknown)"),
    ("CUSTOM_GRAPH", False, "a domain such as PARL (default none)"),
    ("PRIV", False, "yes: delete the audio object after transcription (default no)"),
    ("TAG", False, "names the result decoded/<TAG>.json (default random)"),
    ("JOB_ID", False, "the client's job id, sent back as JOB-ID (default TAG)"),
    ("OBJECT_URL", False, "fetch the audio from this http(s) URL instead (default none)"),
    ("RETURN_URL", False, "callback URL (default none)"),
    ("FE_API_KEY", False, "X-API-KEY of the callback (default the submitting key; kept sealed)"),
)
_STR = {"type": "string"}
_OPENAPI: dict[str, Any] = {
    "parameters": [
        {"name": name, "in": "header", "required": required, "description": text, "schema": _STR}
        for name, required, text in _HEADERS_DOC
    ]
}


class SeedJobOut(BaseModel):
    """The answer to a seed-protocol submission."""

    job_id: str
    tag: str
    client_job_id: str
    status: JobStatus
    result: ResultOut

    @classmethod
    def of(cls, job: Job, seed: SeedRequest) -> SeedJobOut:
        """The answer for ``job``, queued from ``seed``."""
        return cls(
            job_id=job.id,
            tag=seed.tag,
            client_job_id=seed.client_job_id,
            status=job.status,
            result=ResultOut(bucket=seed.bucket, key=result_key(job.id, seed.tag)),
        )


@router.post(
    "/decode",
    response_model=SeedJobOut,
    openapi_extra=_OPENAPI,
    summary="Submit a job the seed's way: every field is a request header",
    responses={
        400: {"description": "A required header is missing or invalid"},
        401: {"description": "Wrong API key"},
        403: {"description": "BUCKET_NAME is not granted to this key, or only read-only"},
        409: {"description": "TAG names the result of another job still queued or running"},
        422: {"description": "No object OBJECT_PATH in BUCKET_NAME"},
        429: {"description": "Too many active jobs; see Retry-After"},
    },
)
def decode(request: Request, svc: Services) -> SeedJobOut:
    """Queue the job the headers describe; 200 with its id and where the result will be."""
    headers = normalize_headers(request.headers.items())
    with _bad_request():
        key = api_key_from(headers)
    tenant = _authenticate(key, svc)
    seed, options = _checked_request(headers, key, svc)
    _check_bucket(seed.bucket, tenant)
    check_capacity(tenant, svc)
    job = queue_job(new_job_id(), tenant, _source(seed, svc), options, svc)
    return SeedJobOut.of(job, seed)


def _checked_request(
    headers: dict[str, str], api_key: str, svc: ApiServices
) -> tuple[SeedRequest, JobOptions]:
    """The parsed headers and job options; 400 for anything wrong with them."""
    with _bad_request():
        seed = parse_seed_headers(headers)
        options = seed_options(seed, api_key, svc)  # checks RETURN_URL's address too
        if seed.object_url is not None:
            check_url(seed.object_url, svc.settings.egress_policy)
    return seed, options


def seed_options(seed: SeedRequest, api_key: str, svc: ApiServices) -> JobOptions:
    """Checked job options (a model must serve them) plus the seed's tag and callback fields."""
    checked = check_options(
        JobOptionsIn(
            language=seed.language,
            band=seed.band,
            channels=seed.channels,
            domain=seed.domain,
            model=None,
            diarize=seed.diarize,
            speakers=seed.speakers,
            punctuate=seed.punctuate,
            private=seed.private,
            callback_url=seed.return_url,
            metadata={SEED_JOB_ID: seed.client_job_id},
        ),
        svc,
    )
    return dataclasses.replace(
        checked,
        tag=seed.tag,
        user_id=seed.user_id,
        callback_style=SEED_CALLBACK_STYLE,
        callback_api_key=_sealed_callback_key(seed, api_key, svc),
    )


def _sealed_callback_key(seed: SeedRequest, api_key: str, svc: ApiServices) -> str | None:
    """The callback's ``X-API-KEY`` (``FE_API_KEY``, else the submitting key), sealed:
    no working key is kept in the database; refused for a plain ``http://`` RETURN_URL
    unless the operator allows it."""
    if seed.return_url is None:
        return None
    settings = svc.settings
    if seed.return_url.lower().startswith("http://") and not settings.callback_key_over_http:
        raise KeyRefusedError(
            "RETURN_URL must be https:// to carry the callback's X-API-KEY "
            "(the operator can allow http:// with DSAC_CALLBACK_KEY_OVER_HTTP)"
        )
    box = secret_box(settings.secret_key, settings.data_dir)
    return box.seal(seed.fe_api_key or api_key)


@contextmanager
def _bad_request() -> Iterator[None]:
    """Header and option errors answer 400 (the seed's clients expect it), with their code."""
    try:
        yield
    except (InputError, NoModelForRequestError, ModelNotFoundError, KeyRefusedError) as exc:
        raise ApiError(400, exc.code, exc.message) from exc


def _authenticate(key: str, svc: ApiServices) -> Tenant:
    found = svc.store.authenticate(key)
    if found is None:
        raise ApiError(401, "unauthorized", f"invalid API key in {API_KEY}")
    return found


def _check_bucket(bucket: str, tenant: Tenant) -> None:
    """Audio is read from and results written to ``BUCKET_NAME``: it must be granted
    for writing (a ``B:ro`` grant does not let a key write or delete there)."""
    if bucket not in tenant.buckets:
        raise ApiError(403, "bucket_forbidden", f"this key is not granted bucket {bucket!r}")
    if not tenant.can_write(bucket):
        message = f"bucket {bucket!r} is granted read-only to this key: results cannot go there"
        raise ApiError(403, "bucket_read_only", message)


def _source(seed: SeedRequest, svc: ApiServices) -> JobSource:
    """``OBJECT_URL`` when given (results still go to ``BUCKET_NAME``), else the object."""
    if seed.object_url is not None:
        return JobSource(SourceKind.URL, seed.bucket, url=seed.object_url)
    assert seed.object_path is not None
    bucket, key = seed.bucket, seed.object_path
    if not svc.objects.exists(bucket, key):
        raise ApiError(422, "object_not_found", f"no object {key!r} in bucket {bucket!r}")
    return JobSource(SourceKind.OBJECT, bucket, key=key, filename=key.rsplit("/", 1)[-1])
