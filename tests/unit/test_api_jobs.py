"""Reading, listing, fetching transcripts of and deleting jobs; tenants kept apart."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import docx
import pytest
from api_fakes import ApiHarness, finish_job, make_harness, small_transcript

from dsac_asr.jobs.model import JobStatus
from dsac_asr.jobs.runner import result_key, transcript_key
from dsac_asr.transcript import OutputFormat, SpeakerSpan

WORDS = ("Hello", "world", "Goodbye", "friend")


@pytest.fixture
def api(tmp_path: Path) -> Iterator[ApiHarness]:
    harness = make_harness(tmp_path)
    yield harness
    harness.client.close()
    harness.store.close()


def submit(api: ApiHarness, headers: dict[str, str]) -> str:
    response = api.upload(headers, b"audio bytes", language="eng")
    assert response.status_code == 202, response.text
    job_id: str = response.json()["id"]
    return job_id


# --- one job ---------------------------------------------------------------------


def test_own_job_is_returned(api: ApiHarness) -> None:
    _, headers = api.tenant("acme")
    job_id = submit(api, headers)
    response = api.client.get(f"/v1/jobs/{job_id}", headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == job_id
    assert body["status"] == "queued"
    assert body["started_at"] is None and body["finished_at"] is None
    assert body["source"]["key"] == f"uploads/{job_id}/call.wav"


def test_another_tenants_job_looks_exactly_like_a_missing_one(api: ApiHarness) -> None:
    _, acme = api.tenant("acme")
    _, globex = api.tenant("globex")
    job_id = submit(api, acme)
    theirs = api.client.get(f"/v1/jobs/{job_id}", headers=globex)
    missing_id = "0" * len(job_id)
    missing = api.client.get(f"/v1/jobs/{missing_id}", headers=globex)
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["error"]["code"] == "not_found"
    assert theirs.json() == json.loads(missing.text.replace(missing_id, job_id))


def test_finished_job_shows_its_result(api: ApiHarness) -> None:
    _, headers = api.tenant("acme", ("calls",))
    job_id = submit(api, headers)
    finish_job(api, job_id, small_transcript())
    body = api.client.get(f"/v1/jobs/{job_id}", headers=headers).json()
    assert body["status"] == "succeeded"
    assert body["progress"] == 1.0
    assert body["result"] == {"bucket": "calls", "key": f"decoded/{job_id}.json"}
    assert body["duration_s"] == 4.0
    assert body["processing_s"] == 0.5
    assert body["model"] == "whisper-base"
    assert body["transcript_metadata"] == {"engine": "fake"}
    assert body["started_at"] is not None and body["finished_at"] is not None


def test_failed_job_shows_its_error(api: ApiHarness) -> None:
    _, headers = api.tenant("acme")
    job_id = submit(api, headers)
    claimed = api.store.claim(job_id, 60.0)
    assert claimed is not None
    failed = api.store.finish_failure(
        job_id, "not_media", "the file is not audio", lease_id=claimed.lease_id
    )
    assert failed is not None
    body = api.client.get(f"/v1/jobs/{job_id}", headers=headers).json()
    assert body["status"] == "failed"
    assert body["error"] == {"code": "not_media", "message": "the file is not audio"}
    assert body["result"] is None


# --- lists -------------------------------------------------------------------------


def test_list_pages_through_every_job_once_newest_first(api: ApiHarness) -> None:
    _, headers = api.tenant("acme")
    created = [submit(api, headers) for _ in range(5)]
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, str | int] = {"limit": 2}
        if cursor is not None:
            params["cursor"] = cursor
        response = api.client.get("/v1/jobs", headers=headers, params=params)
        assert response.status_code == 200
        page = response.json()
        assert len(page["jobs"]) <= 2
        seen += [job["id"] for job in page["jobs"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == list(reversed(created))


def test_list_filters_by_status(api: ApiHarness) -> None:
    _, headers = api.tenant("acme")
    first, second, third = (submit(api, headers) for _ in range(3))
    finish_job(api, second, small_transcript())

    def ids(status: str) -> list[str]:
        response = api.client.get("/v1/jobs", headers=headers, params={"status": status})
        assert response.status_code == 200
        return [job["id"] for job in response.json()["jobs"]]

    assert ids("queued") == [third, first]
    assert ids("succeeded") == [second]
    assert ids("failed") == []


def test_list_never_shows_another_tenants_jobs(api: ApiHarness) -> None:
    _, acme = api.tenant("acme")
    _, globex = api.tenant("globex")
    acme_jobs = {submit(api, acme) for _ in range(3)}
    globex_job = submit(api, globex)
    listed = api.client.get("/v1/jobs", headers=acme, params={"limit": 200}).json()
    assert {job["id"] for job in listed["jobs"]} == acme_jobs
    assert listed["next_cursor"] is None
    theirs = api.client.get("/v1/jobs", headers=globex).json()["jobs"]
    assert [job["id"] for job in theirs] == [globex_job]


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"status": "sleeping"}, "invalid_request"),
        ({"limit": 0}, "invalid_request"),
        ({"limit": 201}, "invalid_request"),
        ({"cursor": "not-a-cursor"}, "invalid_option"),
    ],
)
def test_list_refuses_bad_parameters(
    api: ApiHarness, params: dict[str, str | int], code: str
) -> None:
    _, headers = api.tenant("acme")
    response = api.client.get("/v1/jobs", headers=headers, params=params)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == code


# --- transcripts -------------------------------------------------------------------


def test_transcript_of_a_queued_job_is_not_finished(api: ApiHarness) -> None:
    _, headers = api.tenant("acme")
    job_id = submit(api, headers)
    response = api.client.get(f"/v1/jobs/{job_id}/transcript", headers=headers)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_finished"
    assert "queued" in response.json()["error"]["message"]


def test_transcript_of_a_running_job_is_not_finished(api: ApiHarness) -> None:
    _, headers = api.tenant("acme")
    job_id = submit(api, headers)
    api.store.claim(job_id, 60.0)
    response = api.client.get(f"/v1/jobs/{job_id}/transcript", headers=headers)
    assert response.status_code == 409
    assert "running" in response.json()["error"]["message"]


# every format that carries words (docx and rttm have their own tests below)
WORD_TEXT_FORMATS = [f for f in OutputFormat if f not in {OutputFormat.DOCX, OutputFormat.RTTM}]


@pytest.mark.parametrize("fmt", WORD_TEXT_FORMATS)
def test_transcript_in_each_text_format(api: ApiHarness, fmt: OutputFormat) -> None:
    _, headers = api.tenant("acme")
    job_id = submit(api, headers)
    finish_job(api, job_id, small_transcript())
    response = api.client.get(
        f"/v1/jobs/{job_id}/transcript", headers=headers, params={"format": fmt.value}
    )
    assert response.status_code == 200
    content_type = response.headers["content-type"]
    assert content_type.split(";")[0] == fmt.media_type.split(";")[0]
    if content_type.startswith("text/"):
        assert "charset=utf-8" in content_type
    assert f'filename="{job_id}.{fmt.value}"' in response.headers["content-disposition"]
    for word in WORDS:
        assert word in response.text, (fmt, response.text)


def test_transcript_json_is_the_seed_shape(api: ApiHarness) -> None:
    _, headers = api.tenant("acme")
    job_id = submit(api, headers)
    finish_job(api, job_id, small_transcript())
    response = api.client.get(f"/v1/jobs/{job_id}/transcript", headers=headers)
    assert response.headers["content-type"] == "application/json"
    words = [
        word["word"]
        for result in response.json()["results"]
        for word in result["alternatives"][0]["words"]
    ]
    assert words == ["Hello", "world.", "Goodbye", "friend."]


def test_transcript_ctm_names_the_job(api: ApiHarness) -> None:
    _, headers = api.tenant("acme")
    job_id = submit(api, headers)
    finish_job(api, job_id, small_transcript())
    response = api.client.get(
        f"/v1/jobs/{job_id}/transcript", headers=headers, params={"format": "ctm"}
    )
    lines = response.text.strip().splitlines()
    assert len(lines) == 4
    assert all(line.startswith(job_id) for line in lines)


def test_transcript_rttm_has_the_speaker_turns_named_by_the_job(api: ApiHarness) -> None:
    _, headers = api.tenant("acme")
    job_id = submit(api, headers)
    turns = (SpeakerSpan(0.4, 1.5, "A"), SpeakerSpan(1.8, 3.2, "B"))
    finish_job(api, job_id, replace(small_transcript(), speaker_turns=turns))
    response = api.client.get(
        f"/v1/jobs/{job_id}/transcript", headers=headers, params={"format": "rttm"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert f'filename="{job_id}.rttm"' in response.headers["content-disposition"]
    assert response.text.splitlines() == [
        f"SPEAKER {job_id} 1 0.400 1.100 <NA> <NA> A <NA> <NA>",
        f"SPEAKER {job_id} 1 1.800 1.400 <NA> <NA> B <NA> <NA>",
    ]


def test_transcript_rttm_of_a_job_without_speakers_is_refused(api: ApiHarness) -> None:
    _, headers = api.tenant("acme")
    job_id = submit(api, headers)
    finish_job(api, job_id, small_transcript())
    response = api.client.get(
        f"/v1/jobs/{job_id}/transcript", headers=headers, params={"format": "rttm"}
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_option"
    assert "diarize" in error["message"]


def test_transcript_as_docx(api: ApiHarness) -> None:
    _, headers = api.tenant("acme")
    job_id = submit(api, headers)
    finish_job(api, job_id, small_transcript())
    response = api.client.get(
        f"/v1/jobs/{job_id}/transcript", headers=headers, params={"format": "docx"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == OutputFormat.DOCX.media_type
    assert response.content.startswith(b"PK")
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(response.content)).paragraphs)
    for word in WORDS:
        assert word in text


def test_transcript_in_an_unknown_format_is_refused(api: ApiHarness) -> None:
    _, headers = api.tenant("acme")
    job_id = submit(api, headers)
    finish_job(api, job_id, small_transcript())
    response = api.client.get(
        f"/v1/jobs/{job_id}/transcript", headers=headers, params={"format": "pdf"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"


def test_transcript_of_another_tenants_job_is_not_found(api: ApiHarness) -> None:
    _, acme = api.tenant("acme")
    _, globex = api.tenant("globex")
    job_id = submit(api, acme)
    finish_job(api, job_id, small_transcript())
    response = api.client.get(f"/v1/jobs/{job_id}/transcript", headers=globex)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert "Hello" not in response.text


# --- deletion ------------------------------------------------------------------------


def test_deleting_a_queued_job_forgets_it_and_its_upload(api: ApiHarness) -> None:
    tenant, headers = api.tenant("acme")
    job_id = submit(api, headers)
    upload_key = f"uploads/{job_id}/call.wav"
    assert api.objects.exists(tenant.default_bucket, upload_key)
    response = api.client.delete(f"/v1/jobs/{job_id}", headers=headers)
    assert response.status_code == 204
    assert response.content == b""
    assert api.client.get(f"/v1/jobs/{job_id}", headers=headers).status_code == 404
    assert not api.objects.exists(tenant.default_bucket, upload_key)
    assert api.store.claim(job_id, 60.0) is None
    assert api.store.is_cancelled(job_id)
    assert api.client.delete(f"/v1/jobs/{job_id}", headers=headers).status_code == 404


def test_deleting_another_tenants_job_is_not_found_and_keeps_it(api: ApiHarness) -> None:
    tenant, acme = api.tenant("acme")
    _, globex = api.tenant("globex")
    job_id = submit(api, acme)
    response = api.client.delete(f"/v1/jobs/{job_id}", headers=globex)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert api.store.get_job(job_id, tenant.id).status is JobStatus.QUEUED
    assert api.objects.exists(tenant.default_bucket, f"uploads/{job_id}/call.wav")
    assert api.client.get(f"/v1/jobs/{job_id}", headers=acme).status_code == 200


def test_deleting_a_succeeded_job_removes_its_results(api: ApiHarness) -> None:
    tenant, headers = api.tenant("acme", ("calls",))
    job_id = submit(api, headers)
    finish_job(api, job_id, small_transcript())
    internal = api.settings.internal_bucket
    objects = [
        ("calls", result_key(job_id)),
        (internal, transcript_key(job_id)),
        ("calls", f"uploads/{job_id}/call.wav"),
    ]
    assert all(api.objects.exists(bucket, key) for bucket, key in objects)
    assert api.client.delete(f"/v1/jobs/{job_id}", headers=headers).status_code == 204
    assert not any(api.objects.exists(bucket, key) for bucket, key in objects)
    assert api.store.list_jobs(tenant.id) == ([], None)


def test_deleting_an_object_job_keeps_the_tenants_object(api: ApiHarness) -> None:
    _, headers = api.tenant("acme", ("calls",))
    api.objects.put_bytes("calls", "in/a.wav", b"audio", "audio/wav")
    source = {"object": {"bucket": "calls", "key": "in/a.wav"}}
    job_id = api.client.post("/v1/jobs", headers=headers, json={"source": source}).json()["id"]
    finish_job(api, job_id, small_transcript())
    assert api.client.delete(f"/v1/jobs/{job_id}", headers=headers).status_code == 204
    assert api.objects.get_bytes("calls", "in/a.wav") == b"audio"
    assert not api.objects.exists("calls", result_key(job_id))
