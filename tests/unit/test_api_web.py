"""The web page at ``/``, its static files, and ``GET /v1/jobs/{id}/audio`` (Range, tenancy)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from api_fakes import ApiHarness, finish_job, make_harness, small_transcript

from dsac_asr.api.routes_audio import parse_range
from dsac_asr.api.routes_web import CONTENT_SECURITY_POLICY
from dsac_asr.transcript import OutputFormat

AUDIO = bytes(range(256)) * 40  # 10240 distinct-enough bytes


@pytest.fixture
def api(tmp_path: Path) -> Iterator[ApiHarness]:
    harness = make_harness(tmp_path)
    yield harness
    harness.client.close()
    harness.store.close()


def submit(api: ApiHarness, headers: dict[str, str], **fields: str) -> str:
    response = api.upload(headers, AUDIO, **fields)
    assert response.status_code == 202, response.text
    job_id: str = response.json()["id"]
    return job_id


# --- the page ----------------------------------------------------------------------------


def test_the_page_is_served_without_a_key_and_holds_no_data(api: ApiHarness) -> None:
    response = api.client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
    page = response.text
    assert '<label for="api-key">' in page and 'id="api-key"' in page
    for field in ("files", "url", "language", "band", "channels", "domain", "diarize", "speakers"):
        assert f'<label for="{field}">' in page, field
    assert 'id="punctuate"' in page and 'id="private"' in page
    assert 'aria-live="polite"' in page
    assert "<script>" not in page  # no inline script: the CSP would refuse it anyway
    for fmt in OutputFormat:
        assert f'data-format="{fmt.value}"' in page
    assert 'name="viewport"' in page


def test_static_files_are_served(api: ApiHarness) -> None:
    script = api.client.get("/static/page.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert "sessionStorage" in script.text and "Authorization" in script.text
    assert ".innerHTML" not in script.text and "insertAdjacentHTML" not in script.text
    css = api.client.get("/static/page.css")
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]


def test_the_page_stays_out_of_the_openapi_description(api: ApiHarness) -> None:
    paths = api.client.get("/openapi.json").json()["paths"]
    assert "/" not in paths
    assert "/v1/jobs/{job_id}/audio" in paths


# --- audio -------------------------------------------------------------------------------


def test_the_whole_audio_is_served_to_its_tenant(api: ApiHarness) -> None:
    _, headers = api.tenant("acme")
    job_id = submit(api, headers)
    response = api.client.get(f"/v1/jobs/{job_id}/audio", headers=headers)
    assert response.status_code == 200
    assert response.content == AUDIO
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["content-length"] == str(len(AUDIO))
    assert response.headers["content-type"] in ("audio/x-wav", "audio/wav")
    assert "no-store" in response.headers["cache-control"]


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [("bytes=0-99", 0, 99), ("bytes=5000-", 5000, 10239), ("bytes=-100", 10140, 10239)],
)
def test_a_byte_range_is_served_as_206(api: ApiHarness, header: str, start: int, end: int) -> None:
    _, headers = api.tenant("acme")
    job_id = submit(api, headers)
    response = api.client.get(f"/v1/jobs/{job_id}/audio", headers={**headers, "Range": header})
    assert response.status_code == 206
    assert response.content == AUDIO[start : end + 1]
    assert response.headers["content-range"] == f"bytes {start}-{end}/{len(AUDIO)}"
    assert response.headers["content-length"] == str(end - start + 1)


def test_a_range_past_the_end_is_416(api: ApiHarness) -> None:
    _, headers = api.tenant("acme")
    job_id = submit(api, headers)
    url = f"/v1/jobs/{job_id}/audio"
    response = api.client.get(url, headers={**headers, "Range": "bytes=20000-"})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{len(AUDIO)}"


def test_parse_range_ignores_what_it_does_not_serve() -> None:
    assert parse_range(None, 100) is None
    assert parse_range("bytes=0-1,5-6", 100) is None  # several ranges: the whole object
    assert parse_range("items=0-1", 100) is None
    found = parse_range("bytes=90-500", 100)
    assert found is not None and (found.start, found.end, found.length) == (90, 99, 10)


def test_another_tenant_gets_404_like_a_missing_job(api: ApiHarness) -> None:
    _, acme = api.tenant("acme")
    _, globex = api.tenant("globex")
    job_id = submit(api, acme)
    theirs = api.client.get(f"/v1/jobs/{job_id}/audio", headers=globex)
    assert theirs.status_code == 404
    assert theirs.json()["error"]["code"] == "not_found"
    assert api.client.get(f"/v1/jobs/{job_id}/audio").status_code == 401


def test_a_private_jobs_audio_is_gone_after_success_and_says_why(api: ApiHarness) -> None:
    _, headers = api.tenant("acme")
    job_id = submit(api, headers, private="true")
    assert api.client.get(f"/v1/jobs/{job_id}/audio", headers=headers).status_code == 200
    job = finish_job(api, job_id, small_transcript())
    assert job.source.key is not None
    api.objects.delete(job.source.bucket, job.source.key)  # what the worker does for private jobs
    response = api.client.get(f"/v1/jobs/{job_id}/audio", headers=headers)
    assert response.status_code == 410
    error = response.json()["error"]
    assert error["code"] == "audio_deleted"
    assert "private" in error["message"] and "deleted" in error["message"]


def test_a_url_jobs_audio_was_never_stored(api: ApiHarness) -> None:
    _, headers = api.tenant("acme")
    body = {"source": {"url": "https://93.184.216.34/a.wav"}}  # a literal global address
    job_id = api.client.post("/v1/jobs", headers=headers, json=body).json()["id"]
    response = api.client.get(f"/v1/jobs/{job_id}/audio", headers=headers)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "audio_not_stored"


def test_a_deleted_job_has_no_audio(api: ApiHarness) -> None:
    _, headers = api.tenant("acme")
    job_id = submit(api, headers)
    assert api.client.delete(f"/v1/jobs/{job_id}", headers=headers).status_code == 204
    assert api.client.get(f"/v1/jobs/{job_id}/audio", headers=headers).status_code == 404
