"""Request-size and per-tenant limits of the API."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from api_fakes import make_harness

from dsac_asr.api.limits import MULTIPART_OVERHEAD_BYTES, BodyLimitMiddleware

LIMIT_BYTES = 1000


def _run_middleware(headers: list[tuple[bytes, bytes]], chunks: list[bytes]) -> dict[str, Any]:
    """Drive the middleware with a body in ``chunks``; report what was read and answered."""
    seen = {"chunks_read": 0, "status": None, "app_called": False}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen["app_called"] = True
        while True:
            message = await receive()
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 202, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def receive() -> dict[str, Any]:
        index = seen["chunks_read"]
        seen["chunks_read"] = index + 1
        more = index + 1 < len(chunks)
        return {"type": "http.request", "body": chunks[index], "more_body": more}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            seen["status"] = message["status"]

    middleware = BodyLimitMiddleware(app, LIMIT_BYTES - MULTIPART_OVERHEAD_BYTES)
    scope = {"type": "http", "method": "POST", "path": "/v1/jobs", "headers": headers}
    try:
        asyncio.run(middleware(scope, receive, send))
    except Exception as exc:  # the error handler of the real app turns this into a 413
        seen["raised"] = type(exc).__name__
    return seen


def test_declared_length_over_the_limit_is_refused_before_reading() -> None:
    seen = _run_middleware([(b"content-length", b"5000")], [b"x" * 5000])
    assert seen["status"] == 413
    assert seen["chunks_read"] == 0 and not seen["app_called"]


def test_a_chunked_body_is_cut_off_just_past_the_limit() -> None:
    chunks = [b"x" * 400] * 50
    seen = _run_middleware([], chunks)
    assert seen["raised"] == "MediaTooLargeError"
    assert seen["chunks_read"] == 3  # 1200 bytes: stopped at the first chunk past 1000


def test_a_body_within_the_limit_passes() -> None:
    seen = _run_middleware([(b"content-length", b"800")], [b"x" * 400, b"x" * 400])
    assert seen["status"] == 202 and seen["chunks_read"] == 2


def test_an_oversized_upload_is_answered_413_by_the_app(tmp_path: Path) -> None:
    harness = make_harness(tmp_path, max_upload_mb=0.01)
    _tenant, headers = harness.tenant("acme")
    response = harness.upload(headers, b"x" * 200_000)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "media_too_large"
    assert harness.queue.enqueued == []


@pytest.mark.parametrize("cap", [1, 3])
def test_tenant_cap_on_active_jobs_answers_429(tmp_path: Path, cap: int) -> None:
    harness = make_harness(tmp_path, max_active_jobs_per_tenant=cap)
    _tenant, headers = harness.tenant("acme")
    _other, other_headers = harness.tenant("other")
    for _ in range(cap):
        assert harness.upload(headers).status_code == 202
    refused = harness.upload(headers)
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "30"
    assert refused.json()["error"]["code"] == "too_many_jobs"
    assert len(harness.queue.enqueued) == cap
    assert harness.upload(other_headers).status_code == 202  # other tenants are not held back
