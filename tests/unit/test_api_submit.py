"""POST /v1/jobs: uploads (multipart), URLs and objects (JSON), refused options.

URLs use a literal global address (93.184.216.34): the egress check at submission
resolves host names, and a literal address needs no DNS lookup.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from api_fakes import ApiHarness, make_harness
from speech import write_wav

from dsac_asr.errors import TransientError
from dsac_asr.jobs.model import JobStatus


@pytest.fixture
def api(tmp_path: Path) -> Iterator[ApiHarness]:
    harness = make_harness(tmp_path / "api")
    yield harness
    harness.client.close()
    harness.store.close()


@pytest.fixture
def small_api(tmp_path: Path) -> Iterator[ApiHarness]:
    """Uploads limited to 1048 bytes (0.001 MiB)."""
    harness = make_harness(tmp_path / "api", max_upload_mb=0.001)
    yield harness
    harness.client.close()
    harness.store.close()


@pytest.fixture
def wav_bytes(tmp_path: Path) -> bytes:
    tone = 0.3 * np.sin(np.arange(8000) * 2 * np.pi * 440 / 16000).astype(np.float32)
    return write_wav(tmp_path / "tone.wav", [tone], 16000).read_bytes()


def stored_files(api: ApiHarness) -> list[Path]:
    """Every object file under the object store's root (temporary files included)."""
    root = api.objects.root
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def assert_nothing_kept(api: ApiHarness, tenant_id: str) -> None:
    assert api.queue.enqueued == []
    assert api.store.list_jobs(tenant_id) == ([], None)
    assert stored_files(api) == []


def post_json(api: ApiHarness, headers: dict[str, str], body: Any) -> httpx.Response:
    return api.client.post("/v1/jobs", headers=headers, json=body)


# --- uploads -----------------------------------------------------------------


def test_upload_is_stored_recorded_and_enqueued_once(api: ApiHarness, wav_bytes: bytes) -> None:
    tenant, headers = api.tenant("acme", ("calls",))
    response = api.upload(headers, wav_bytes, language="eng")
    assert response.status_code == 202, response.text
    body = response.json()
    job_id = body["id"]
    assert body["status"] == "queued"
    assert body["progress"] == 0.0
    assert body["result"] is None and body["error"] is None
    assert body["source"] == {
        "kind": "upload",
        "bucket": "calls",
        "key": f"uploads/{job_id}/call.wav",
        "url": None,
        "filename": "call.wav",
    }
    assert api.queue.enqueued == [job_id]
    assert api.objects.get_bytes("calls", f"uploads/{job_id}/call.wav") == wav_bytes
    stored = api.store.get_job(job_id, tenant.id)
    assert stored.status is JobStatus.QUEUED
    assert stored.source.key == f"uploads/{job_id}/call.wav"


def test_upload_without_buckets_goes_to_the_tenants_own_bucket(api: ApiHarness) -> None:
    _, headers = api.tenant("acme")
    response = api.upload(headers, b"0123456789")
    assert response.status_code == 202
    job_id = response.json()["id"]
    assert response.json()["source"]["bucket"] == "tenant-acme"
    assert api.objects.get_bytes("tenant-acme", f"uploads/{job_id}/call.wav") == b"0123456789"


def test_each_upload_gets_its_own_job_id(api: ApiHarness) -> None:
    _, headers = api.tenant("acme")
    ids = [api.upload(headers, b"audio %d" % n).json()["id"] for n in range(3)]
    assert len(set(ids)) == 3
    assert api.queue.enqueued == ids


def test_upload_options_are_parsed_and_echoed(api: ApiHarness) -> None:
    _, headers = api.tenant("acme")
    metadata = {"call_id": "c-17", "agent": "Thandi"}
    response = api.upload(
        headers,
        language="Afrikaans",
        band="NB",
        channels="separate",
        diarize="true",
        speakers="2",
        punctuate="false",
        prompt="Thandi Nkosi, Sipho.",
        temperature="0.2",
        private="true",
        callback_url="https://93.184.216.34/hook",
        metadata=json.dumps(metadata),
    )
    assert response.status_code == 202, response.text
    assert response.json()["options"] == {
        "language": "afr",
        "band": "NB",
        "channels": "separate",
        "domain": None,
        "model": None,
        "diarize": True,
        "speakers": 2,
        "punctuate": False,
        "prompt": "Thandi Nkosi, Sipho.",
        "temperature": 0.2,
        "private": True,
        "callback_url": "https://93.184.216.34/hook",
        "metadata": metadata,
    }
    again = api.client.get(f"/v1/jobs/{response.json()['id']}", headers=headers).json()
    assert again["options"]["metadata"] == metadata
    assert again["options"]["language"] == "afr"
    stored = api.store.get_job(response.json()["id"], None).options
    assert (stored.prompt, stored.temperature) == ("Thandi Nkosi, Sipho.", 0.2)


def test_upload_defaults(api: ApiHarness) -> None:
    _, headers = api.tenant("acme")
    options = api.upload(headers).json()["options"]
    assert options["language"] == "eng"
    assert options["band"] == "auto"
    assert options["channels"] == "auto"
    assert options["private"] is False
    assert options["metadata"] == {}
    assert options["prompt"] is None and options["temperature"] is None


@pytest.mark.parametrize(("given", "canonical"), [("en", "eng"), ("ENG", "eng"), ("af", "afr")])
def test_upload_language_codes_are_normalised(api: ApiHarness, given: str, canonical: str) -> None:
    _, headers = api.tenant("acme")
    response = api.upload(headers, language=given)
    assert response.status_code == 202
    assert response.json()["options"]["language"] == canonical


def test_upload_file_name_is_made_safe_for_the_key(api: ApiHarness) -> None:
    _, headers = api.tenant("acme")
    files = {"file": ("../../etc/my call (1).wav", b"abc", "audio/wav")}
    response = api.client.post("/v1/jobs", headers=headers, files=files)
    assert response.status_code == 202
    job_id = response.json()["id"]
    key = response.json()["source"]["key"]
    assert key.startswith(f"uploads/{job_id}/")
    assert ".." not in key and " " not in key
    assert api.objects.get_bytes("tenant-acme", key) == b"abc"


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({"language": "klingon!"}, 422, "unknown_language"),
        ({"language": "zul"}, 422, "no_model"),
        ({"language": "sto"}, 422, "no_model"),
        ({"language": "eng", "domain": "MINING"}, 422, "no_model"),
        ({"model": "no-such-model"}, 422, "model_not_found"),
        ({"model": "whisper-tiny.en", "language": "afr"}, 422, "no_model"),
        ({"channels": "stereo"}, 422, "invalid_option"),
        ({"band": "ultra"}, 422, "invalid_option"),
        ({"speakers": "0"}, 422, "invalid_option"),
        ({"diarize": "perhaps"}, 422, "invalid_option"),
        ({"metadata": "not json"}, 422, "invalid_option"),
        ({"metadata": '{"n": 1}'}, 422, "invalid_option"),
        ({"prompt": "x" * 1001}, 422, "invalid_option"),
        ({"temperature": "1.5"}, 422, "invalid_option"),
    ],
)
def test_upload_with_bad_options_is_refused_and_keeps_nothing(
    api: ApiHarness, fields: dict[str, str], status: int, code: str
) -> None:
    tenant, headers = api.tenant("acme")
    response = api.upload(headers, **fields)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]
    assert_nothing_kept(api, tenant.id)


def test_sesotho_is_recognised_but_has_no_model(api: ApiHarness) -> None:
    _, headers = api.tenant("acme")
    message = api.upload(headers, language="sto").json()["error"]["message"]
    assert "Sesotho" in message and "(sot)" in message


def test_multipart_without_a_file_part_is_refused(api: ApiHarness) -> None:
    tenant, headers = api.tenant("acme")
    response = api.client.post(
        "/v1/jobs",
        headers=headers,
        files={"audio": ("call.wav", b"abc", "audio/wav")},
        data={"language": "eng"},
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_option"
    assert "file" in response.json()["error"]["message"]
    assert_nothing_kept(api, tenant.id)


def test_multipart_with_file_as_a_plain_field_is_refused(api: ApiHarness) -> None:
    tenant, headers = api.tenant("acme")
    response = api.client.post(
        "/v1/jobs",
        headers=headers,
        files={"language": (None, "eng"), "file": (None, "not a file")},
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_option"
    assert_nothing_kept(api, tenant.id)


def test_upload_over_the_size_limit_is_refused_and_nothing_is_stored(
    small_api: ApiHarness,
) -> None:
    tenant, headers = small_api.tenant("acme")
    response = small_api.upload(headers, b"x" * 5000)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "media_too_large"
    assert "1048" in response.json()["error"]["message"]
    assert_nothing_kept(small_api, tenant.id)


def test_upload_just_at_the_size_limit_is_accepted(small_api: ApiHarness) -> None:
    _, headers = small_api.tenant("acme")
    response = small_api.upload(headers, b"x" * 1048)
    assert response.status_code == 202
    key = response.json()["source"]["key"]
    assert len(small_api.objects.get_bytes("tenant-acme", key)) == 1048
    over = small_api.upload(headers, b"x" * 1049)
    assert over.status_code == 413


# --- JSON: objects and URLs ----------------------------------------------------


def test_object_in_a_granted_bucket_is_accepted(api: ApiHarness) -> None:
    tenant, headers = api.tenant("acme", ("calls", "archive"))
    api.objects.put_bytes("archive", "2024/06/a.wav", b"audio", "audio/wav")
    source = {"object": {"bucket": "archive", "key": "2024/06/a.wav"}}
    response = post_json(api, headers, {"source": source, "language": "eng"})
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "queued"
    assert body["source"] == {
        "kind": "object",
        "bucket": "archive",
        "key": "2024/06/a.wav",
        "url": None,
        "filename": "a.wav",
    }
    assert api.queue.enqueued == [body["id"]]
    assert api.store.get_job(body["id"], tenant.id).source.bucket == "archive"
    assert api.objects.get_bytes("archive", "2024/06/a.wav") == b"audio"


def test_object_in_a_bucket_not_granted_is_forbidden(api: ApiHarness) -> None:
    tenant, headers = api.tenant("acme", ("calls",))
    api.objects.put_bytes("secret", "a.wav", b"audio", "audio/wav")
    source = {"object": {"bucket": "secret", "key": "a.wav"}}
    response = post_json(api, headers, {"source": source, "language": "eng"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "bucket_forbidden"
    assert "secret" in response.json()["error"]["message"]
    assert api.queue.enqueued == []
    assert api.store.list_jobs(tenant.id) == ([], None)


def test_missing_object_is_refused(api: ApiHarness) -> None:
    tenant, headers = api.tenant("acme", ("calls",))
    source = {"object": {"bucket": "calls", "key": "nope.wav"}}
    response = post_json(api, headers, {"source": source, "language": "eng"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "object_not_found"
    assert api.queue.enqueued == []
    assert api.store.list_jobs(tenant.id) == ([], None)


def test_url_source_is_accepted_without_fetching(api: ApiHarness) -> None:
    _, headers = api.tenant("acme")
    url = "https://93.184.216.34/a.wav"
    response = post_json(api, headers, {"source": {"url": url}, "language": "afr"})
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["source"] == {
        "kind": "url",
        "bucket": "tenant-acme",
        "key": None,
        "url": url,
        "filename": None,
    }
    assert body["options"]["language"] == "afr"
    assert api.queue.enqueued == [body["id"]]
    assert stored_files(api) == []


def test_json_metadata_is_echoed(api: ApiHarness) -> None:
    _, headers = api.tenant("acme")
    body = {"source": {"url": "https://93.184.216.34/a.wav"}, "metadata": {"ref": "42"}}
    response = post_json(api, headers, body)
    assert response.status_code == 202
    assert response.json()["options"]["metadata"] == {"ref": "42"}


def test_json_prompt_is_stored(api: ApiHarness) -> None:
    _, headers = api.tenant("acme")
    body = {"source": {"url": "https://93.184.216.34/a.wav"}, "prompt": "Nkwinika, Dlamini."}
    response = post_json(api, headers, body)
    assert response.status_code == 202, response.text
    assert response.json()["options"]["prompt"] == "Nkwinika, Dlamini."
    assert api.store.get_job(response.json()["id"], None).options.prompt == "Nkwinika, Dlamini."


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (
            {
                "source": {
                    "url": "https://93.184.216.34/a.wav",
                    "object": {"bucket": "calls", "key": "a.wav"},
                }
            },
            "invalid_option",
        ),
        ({"source": {}}, "invalid_option"),
        ({"language": "eng"}, "invalid_option"),
        (
            {"source": {"url": "https://93.184.216.34/a.wav"}, "language": "klingon!"},
            "unknown_language",
        ),
        (
            {"source": {"url": "https://93.184.216.34/a.wav"}, "channels": "stereo"},
            "invalid_option",
        ),
        ({"source": {"object": {"bucket": "calls"}}}, "invalid_option"),
        (
            {"source": {"url": "https://93.184.216.34/a.wav"}, "prompt": "x" * 1001},
            "invalid_option",
        ),
        ({"source": {"object": {"bucket": "calls", "key": "../secret/a.wav"}}}, "invalid_option"),
        ({"source": {"object": {"bucket": "calls", "key": "/etc/passwd"}}}, "invalid_option"),
        ([1, 2], "invalid_option"),
    ],
)
def test_bad_json_submissions_are_refused(api: ApiHarness, body: Any, code: str) -> None:
    tenant, headers = api.tenant("acme", ("calls",))
    api.objects.put_bytes("calls", "a.wav", b"audio", "audio/wav")
    response = post_json(api, headers, body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == code
    assert api.queue.enqueued == []
    assert api.store.list_jobs(tenant.id) == ([], None)


def test_body_that_is_not_json_is_refused(api: ApiHarness) -> None:
    _, headers = api.tenant("acme")
    response = api.client.post(
        "/v1/jobs",
        headers={**headers, "Content-Type": "application/json"},
        content=b"{not json",
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_option"


# --- the queue is down ---------------------------------------------------------


def test_enqueue_failure_answers_503_and_forgets_the_url_job(api: ApiHarness) -> None:
    tenant, headers = api.tenant("acme")
    api.queue.fail_enqueue = True
    response = post_json(api, headers, {"source": {"url": "https://93.184.216.34/a.wav"}})
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "transient"
    assert api.store.list_jobs(tenant.id) == ([], None)
    assert sum(api.store.count_by_status().values()) == 0


def test_enqueue_failure_answers_503_and_keeps_neither_job_nor_upload(api: ApiHarness) -> None:
    tenant, headers = api.tenant("acme")
    api.queue.fail_enqueue = True
    response = api.upload(headers, b"audio")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "transient"
    assert_nothing_kept(api, tenant.id)


def test_enqueue_failure_keeps_a_submitted_object(api: ApiHarness) -> None:
    tenant, headers = api.tenant("acme", ("calls",))
    api.objects.put_bytes("calls", "a.wav", b"audio", "audio/wav")
    api.queue.fail_enqueue = True
    source = {"object": {"bucket": "calls", "key": "a.wav"}}
    response = post_json(api, headers, {"source": source})
    assert response.status_code == 503
    assert api.store.list_jobs(tenant.id) == ([], None)
    assert api.objects.get_bytes("calls", "a.wav") == b"audio"


def test_database_failure_answers_503_and_keeps_no_upload(
    api: ApiHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant, headers = api.tenant("acme")

    def database_down(job: object) -> None:
        raise TransientError("database is unreachable")

    monkeypatch.setattr(api.store, "create_job", database_down)
    response = api.upload(headers, b"audio")
    assert response.status_code == 503
    assert response.json()["error"] == {"code": "transient", "message": "database is unreachable"}
    assert_nothing_kept(api, tenant.id)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/a.wav",
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.5/a.wav",
        "http://[::ffff:127.0.0.1]/a.wav",
        "file:///etc/passwd",
        "http://user:pass@93.184.216.34/a.wav",
    ],
)
def test_url_sources_to_private_or_odd_places_are_refused(api: ApiHarness, url: str) -> None:
    _, headers = api.tenant("acme")
    response = post_json(api, headers, {"source": {"url": url}})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "egress_refused"
    assert api.queue.enqueued == []


def test_callback_to_the_metadata_address_is_refused(api: ApiHarness) -> None:
    _, headers = api.tenant("acme")
    response = api.upload(headers, callback_url="http://169.254.169.254/hook")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "egress_refused"


def test_operator_can_allow_a_private_callback_host(tmp_path: Path) -> None:
    harness = make_harness(tmp_path, egress_allow="10.0.0.0/8")
    _, headers = harness.tenant("acme")
    response = harness.upload(headers, callback_url="http://10.1.2.3/hook")
    assert response.status_code == 202, response.text
