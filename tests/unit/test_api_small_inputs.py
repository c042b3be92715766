"""Small bad inputs stay small: JSON size, metadata caps, file names, metrics key."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_fakes import ApiHarness, bearer, make_harness, raw_upload

from dsac_asr.api.submission import (
    MAX_METADATA_ENTRIES,
    MAX_METADATA_KEY_BYTES,
    MAX_METADATA_VALUE_BYTES,
    display_filename,
)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[ApiHarness]:
    harness = make_harness(tmp_path)
    yield harness
    harness.client.close()
    harness.store.close()


def _object_job(api: ApiHarness, headers: dict[str, str], **extra: object) -> dict[str, object]:
    return {"source": {"object": {"bucket": "media", "key": "in/a.wav"}}, **extra}


def test_a_json_submission_over_the_limit_is_413(api: ApiHarness) -> None:
    _, headers = api.tenant("acme", ("media",))
    api.objects.put_bytes("media", "in/a.wav", b"RIFF", "audio/wav")
    body = json.dumps(_object_job(api, headers, metadata={"pad": "x" * 70_000}))
    response = api.client.post(
        "/v1/jobs", content=body, headers={**headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"
    assert api.queue.enqueued == []


def test_a_chunked_json_submission_is_cut_off_too(api: ApiHarness) -> None:
    _, headers = api.tenant("acme", ("media",))
    chunks = [b'{"source": {"url": "https://example.com/a.wav"}, "metadata": {"a": "']
    chunks += [b"y" * 1024] * 100

    def body() -> Iterator[bytes]:
        yield from chunks

    response = api.client.post(
        "/v1/jobs", content=body(), headers={**headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 413


def test_the_json_limit_is_a_setting(tmp_path: Path) -> None:
    harness = make_harness(tmp_path, max_json_kb=1)
    _, headers = harness.tenant("acme", ("media",))
    body = json.dumps({"source": {"url": "https://example.com/a.wav"}, "language": "e" * 1100})
    response = harness.client.post(
        "/v1/jobs", content=body, headers={**headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    harness.client.close()


@pytest.mark.parametrize(
    "metadata",
    [
        {f"k{i}": "v" for i in range(MAX_METADATA_ENTRIES + 1)},
        {"k" * (MAX_METADATA_KEY_BYTES + 1): "v"},
        {"": "v"},
        {"note": "é" * (MAX_METADATA_VALUE_BYTES // 2 + 1)},  # bytes, not characters
    ],
    ids=["entries", "key", "empty key", "value"],
)
def test_metadata_over_its_caps_is_422(api: ApiHarness, metadata: dict[str, str]) -> None:
    _, headers = api.tenant("acme", ("media",))
    api.objects.put_bytes("media", "in/a.wav", b"RIFF", "audio/wav")
    response = api.client.post(
        "/v1/jobs", json=_object_job(api, headers, metadata=metadata), headers=headers
    )
    assert response.status_code == 422
    assert "metadata" in response.json()["error"]["message"]
    uploaded = api.upload(headers, metadata=json.dumps(metadata))
    assert uploaded.status_code == 422
    assert api.queue.enqueued == []


def test_metadata_within_its_caps_is_kept(api: ApiHarness) -> None:
    _, headers = api.tenant("acme", ("media",))
    metadata = {f"k{i}": "v" * MAX_METADATA_VALUE_BYTES for i in range(MAX_METADATA_ENTRIES)}
    response = api.upload(headers, metadata=json.dumps(metadata))
    assert response.status_code == 202
    assert response.json()["options"]["metadata"] == metadata


def test_control_characters_never_stay_in_a_file_name(api: ApiHarness) -> None:
    _, headers = api.tenant("acme", ("media",))
    body, content_type = raw_upload(b"ca\x00ll\x1b.wav", b"RIFF fake audio")
    response = api.client.post(
        "/v1/jobs", headers={**headers, "Content-Type": content_type}, content=body
    )
    assert response.status_code == 202
    source = response.json()["source"]
    assert source["filename"] == "call.wav"
    assert re.fullmatch(r"uploads/[0-9a-f]+/[A-Za-z0-9._-]+", source["key"])
    stored = api.store.get_job(response.json()["id"], None).source
    assert stored.filename == "call.wav"


def test_display_filename() -> None:
    assert display_filename("a\x00b\x7f\x85.wav") == "ab.wav"
    assert display_filename("\x00\x01") is None
    assert display_filename(None) is None
    assert len(display_filename("x" * 1000) or "") == 255


def test_metrics_and_readiness_need_the_metrics_key_when_set(tmp_path: Path) -> None:
    harness = make_harness(tmp_path, metrics_key="m-secret")
    _, tenant_headers = harness.tenant("acme")
    for path in ("/metrics", "/readyz"):
        assert harness.client.get(path).status_code == 401
        assert harness.client.get(path, headers=bearer("wrong")).status_code == 401
        assert harness.client.get(path, headers=tenant_headers).status_code == 401
        assert harness.client.get(path, headers=bearer("m-secret")).status_code == 200
    assert harness.client.get("/healthz").status_code == 200  # liveness stays open
    harness.client.close()


def test_metrics_and_readiness_are_open_without_a_metrics_key(api: ApiHarness) -> None:
    assert api.client.get("/metrics").status_code == 200
    assert api.client.get("/readyz").status_code == 200
