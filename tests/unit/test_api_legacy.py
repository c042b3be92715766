"""POST /legacy/decode: the seed's header protocol on a real store, object folder and fake queue."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api_fakes import ApiHarness, make_harness

from dsac_asr.api.legacy import SEED_JOB_ID
from dsac_asr.callbacks.sealing import SecretBox
from dsac_asr.jobs.model import Job, JobStatus, SourceKind, Tenant

AUDIO_KEY = "media/audio_uploads/call.wav"


@pytest.fixture
def api(tmp_path: Path) -> Iterator[ApiHarness]:
    harness = make_harness(tmp_path / "api")
    yield harness
    harness.client.close()
    harness.store.close()


@pytest.fixture
def acme(api: ApiHarness) -> tuple[Tenant, str]:
    """A tenant granted bucket ``calls`` holding ``AUDIO_KEY``, and its key."""
    tenant = api.store.create_tenant("acme", ("calls",))
    key, _ = api.store.issue_key(tenant.id)
    api.objects.put_bytes("calls", AUDIO_KEY, b"RIFF fake audio", "audio/wav")
    return tenant, key


def seed_headers(key: str, **changes: str | None) -> dict[str, str]:
    """The headers the front end sends (SOURCE and BATCHED included), with changes."""
    headers = {
        "X_API_KEY": key,
        "JOB_ID": "slug-123",
        "USER_ID": "7",
        "DEC_LANG": "eng",
        "SR": "BB",
        "SAC": "yes",
        "DIA": "no",
        "NUM_SPK": "-1",
        "BATCHED": "0",
        "NUM_CHANNELS": "1",
        "BUCKET_NAME": "calls",
        "SOURCE": "url",
        "OBJECT_PATH": AUDIO_KEY,
    }
    headers.update({k: v for k, v in changes.items() if v is not None})
    for name in [k for k, v in changes.items() if v is None]:
        headers.pop(name)
    return headers


def submit(api: ApiHarness, headers: dict[str, str]) -> httpx.Response:
    return api.client.post("/legacy/decode", headers=headers)


def queued_job(api: ApiHarness, tenant: Tenant, response: httpx.Response) -> Job:
    assert response.status_code == 200, response.text
    job_id = response.json()["job_id"]
    assert api.queue.enqueued == [job_id]
    return api.store.get_job(job_id, tenant.id)


def assert_error(response: httpx.Response, status: int, code: str, *words: str) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    for word in words:
        assert word in error["message"]


def test_front_end_submission_is_queued_with_the_seed_options(
    api: ApiHarness, acme: tuple[Tenant, str]
) -> None:
    tenant, key = acme
    response = submit(api, seed_headers(key, RETURN_URL="https://93.184.216.34/jobcomplete/"))
    job = queued_job(api, tenant, response)
    body = response.json()
    tag = job.options.tag
    assert tag is not None and len(tag) == 32
    assert body == {
        "job_id": job.id,
        "tag": tag,
        "client_job_id": "slug-123",
        "status": "queued",
        "result": {"bucket": "calls", "key": f"decoded/{tag}.json"},
    }
    assert job.status is JobStatus.QUEUED
    assert (job.source.kind, job.source.bucket, job.source.key) == (
        SourceKind.OBJECT,
        "calls",
        AUDIO_KEY,
    )
    options = job.options
    assert (options.language, options.band, options.channels) == ("eng", "bb", "auto")
    assert (options.punctuate, options.diarize, options.speakers) == (True, False, None)
    assert (options.domain, options.private) == (None, False)
    assert options.user_id == "7"
    assert options.metadata == {SEED_JOB_ID: "slug-123"}
    assert options.callback_url == "https://93.184.216.34/jobcomplete/"
    assert options.callback_style == "seed"
    assert options.callback_api_key is not None and key not in options.callback_api_key
    assert _opened(api, options.callback_api_key) == key


def test_every_option_header_reaches_the_job(api: ApiHarness, acme: tuple[Tenant, str]) -> None:
    tenant, key = acme
    headers = seed_headers(
        key,
        SR="NB",
        SAC="no",
        DIA="yes",
        NUM_SPK="3",
        NUM_CHANNELS="2",
        PRIV="yes",
        TAG="call-7",
        RETURN_URL="https://93.184.216.34/done",
        FE_API_KEY="front-end-secret",
    )
    job = queued_job(api, tenant, submit(api, headers))
    options = job.options
    assert (options.band, options.channels, options.punctuate) == ("nb", "separate", False)
    assert (options.diarize, options.speakers, options.private) == (True, 3, True)
    assert options.tag == "call-7"
    assert options.callback_api_key is not None
    assert "front-end-secret" not in options.callback_api_key
    assert _opened(api, options.callback_api_key) == "front-end-secret"


def _opened(api: ApiHarness, sealed: str) -> str:
    return SecretBox.from_settings(None, api.settings.data_dir).open(sealed)


def test_the_callback_key_goes_to_https_only_unless_allowed(
    api: ApiHarness, acme: tuple[Tenant, str]
) -> None:
    _, key = acme
    plain = seed_headers(key, RETURN_URL="http://93.184.216.34/done")
    answer = submit(api, plain)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "key_over_http"
    assert "https" in answer.json()["error"]["message"]
    assert api.queue.enqueued == []


def test_an_operator_may_allow_the_callback_key_over_http(tmp_path: Path) -> None:
    harness = make_harness(tmp_path, callback_key_over_http=True)
    tenant = harness.store.create_tenant("acme", ["calls"])
    key, _ = harness.store.issue_key(tenant.id)
    harness.objects.put_bytes("calls", AUDIO_KEY, b"RIFF", "audio/wav")
    headers = seed_headers(key, RETURN_URL="http://93.184.216.34/done")
    job = queued_job(harness, tenant, submit(harness, headers))
    assert job.options.callback_url == "http://93.184.216.34/done"


def test_job_id_defaults_to_the_tag(api: ApiHarness, acme: tuple[Tenant, str]) -> None:
    tenant, key = acme
    response = submit(api, seed_headers(key, JOB_ID=None, TAG="t-1"))
    job = queued_job(api, tenant, response)
    assert response.json()["client_job_id"] == "t-1"
    assert job.options.metadata == {SEED_JOB_ID: "t-1"}
    assert response.json()["result"]["key"] == "decoded/t-1.json"


def test_our_job_id_is_ours_not_the_clients(api: ApiHarness, acme: tuple[Tenant, str]) -> None:
    tenant, key = acme
    first = queued_job(api, tenant, submit(api, seed_headers(key)))
    api.queue.enqueued.clear()
    second = queued_job(api, tenant, submit(api, seed_headers(key)))
    assert first.id != second.id != "slug-123"


def test_no_return_url_records_no_callback(api: ApiHarness, acme: tuple[Tenant, str]) -> None:
    tenant, key = acme
    job = queued_job(api, tenant, submit(api, seed_headers(key, RETURN_URL="none")))
    assert job.options.callback_url is None
    assert job.options.callback_api_key is None


def test_lower_case_and_hyphenated_headers_are_accepted(
    api: ApiHarness, acme: tuple[Tenant, str]
) -> None:
    tenant, key = acme
    headers = {k.lower().replace("_", "-"): v for k, v in seed_headers(key, TAG="t-2").items()}
    job = queued_job(api, tenant, submit(api, headers))
    assert job.options.tag == "t-2"


def test_object_url_fetches_from_the_url_and_writes_to_the_bucket(
    api: ApiHarness, acme: tuple[Tenant, str]
) -> None:
    tenant, key = acme
    url = "https://93.184.216.34/talk.mp3"
    job = queued_job(api, tenant, submit(api, seed_headers(key, OBJECT_URL=url, OBJECT_PATH=None)))
    assert (job.source.kind, job.source.bucket, job.source.url) == (SourceKind.URL, "calls", url)


def test_a_domain_that_is_installed_is_routed(api: ApiHarness, acme: tuple[Tenant, str]) -> None:
    tenant, key = acme
    folder = api.settings.data_dir / "models" / "eng-parl"
    folder.mkdir(parents=True)
    manifest = {"id": "eng-parl", "engine": "whisper", "languages": ["eng"], "band": "bb"}
    (folder / "manifest.json").write_text(json.dumps({**manifest, "domain": "PARL"}))
    job = queued_job(api, tenant, submit(api, seed_headers(key, CUSTOM_GRAPH="PARL")))
    assert job.options.domain == "PARL"


def test_a_domain_without_a_model_is_a_bad_request(
    api: ApiHarness, acme: tuple[Tenant, str]
) -> None:
    _, key = acme
    response = submit(api, seed_headers(key, CUSTOM_GRAPH="MINING"))
    assert_error(response, 400, "no_model", "MINING")
    assert api.queue.enqueued == []


def test_a_language_without_a_model_is_a_bad_request(
    api: ApiHarness, acme: tuple[Tenant, str]
) -> None:
    _, key = acme
    assert_error(submit(api, seed_headers(key, DEC_LANG="zul")), 400, "no_model", "isiZulu")


@pytest.mark.parametrize(("name", "value"), [("SR", "44k"), ("DEC_LANG", "xx"), ("SAC", "maybe")])
def test_bad_header_values_are_bad_requests(
    api: ApiHarness, acme: tuple[Tenant, str], name: str, value: str
) -> None:
    _, key = acme
    assert_error(submit(api, seed_headers(key, **{name: value})), 400, "invalid_header", name)
    assert api.queue.enqueued == []


@pytest.mark.parametrize(
    "name",
    ["DEC_LANG", "SR", "NUM_CHANNELS", "SAC", "DIA", "BUCKET_NAME", "OBJECT_PATH", "USER_ID"],
)
def test_each_missing_required_header_is_a_bad_request_naming_it(
    api: ApiHarness, acme: tuple[Tenant, str], name: str
) -> None:
    _, key = acme
    assert_error(submit(api, seed_headers(key, **{name: None})), 400, "missing_header", name)
    assert api.queue.enqueued == []


def test_a_missing_key_is_a_bad_request_naming_it(api: ApiHarness) -> None:
    response = submit(api, seed_headers("", X_API_KEY=None))
    assert_error(response, 400, "missing_header", "X_API_KEY")


def test_a_wrong_key_is_unauthorized(api: ApiHarness, acme: tuple[Tenant, str]) -> None:
    assert_error(submit(api, seed_headers("dsac_wrong")), 401, "unauthorized")
    assert api.queue.enqueued == []


def test_a_wrong_key_is_unauthorized_before_other_headers_are_judged(api: ApiHarness) -> None:
    response = submit(api, seed_headers("dsac_wrong", DEC_LANG=None, SR="44k"))
    assert_error(response, 401, "unauthorized")


def test_the_native_api_key_header_spelling_works_too(
    api: ApiHarness, acme: tuple[Tenant, str]
) -> None:
    tenant, key = acme
    headers = seed_headers(key, X_API_KEY=None) | {"X-API-Key": key}
    queued_job(api, tenant, submit(api, headers))


def test_a_bucket_not_granted_is_forbidden(api: ApiHarness, acme: tuple[Tenant, str]) -> None:
    _, key = acme
    api.objects.put_bytes("other", AUDIO_KEY, b"RIFF", "audio/wav")
    response = submit(api, seed_headers(key, BUCKET_NAME="other"))
    assert_error(response, 403, "bucket_forbidden", "other")
    assert api.queue.enqueued == []


def test_results_may_not_go_to_a_bucket_not_granted(
    api: ApiHarness, acme: tuple[Tenant, str]
) -> None:
    _, key = acme
    headers = seed_headers(key, BUCKET_NAME="other", OBJECT_URL="https://93.184.216.34/a.mp3")
    assert_error(submit(api, headers), 403, "bucket_forbidden")


def test_a_missing_object_is_unprocessable(api: ApiHarness, acme: tuple[Tenant, str]) -> None:
    tenant, key = acme
    response = submit(api, seed_headers(key, OBJECT_PATH="media/nothing.wav"))
    assert_error(response, 422, "object_not_found", "media/nothing.wav")
    assert api.store.list_jobs(tenant.id) == ([], None)


def test_the_tenant_job_cap_applies(tmp_path: Path) -> None:
    api = make_harness(tmp_path, max_active_jobs_per_tenant=1)
    tenant = api.store.create_tenant("acme", ("calls",))
    key, _ = api.store.issue_key(tenant.id)
    api.objects.put_bytes("calls", AUDIO_KEY, b"RIFF", "audio/wav")
    assert submit(api, seed_headers(key)).status_code == 200
    assert_error(submit(api, seed_headers(key)), 429, "too_many_jobs")
    api.client.close()
    api.store.close()


def test_the_seed_job_is_visible_on_the_native_api(
    api: ApiHarness, acme: tuple[Tenant, str]
) -> None:
    _, key = acme
    job_id = submit(api, seed_headers(key)).json()["job_id"]
    native = api.client.get(f"/v1/jobs/{job_id}", headers={"X-API-Key": key}).json()
    assert native["status"] == "queued"
    assert native["options"]["metadata"] == {SEED_JOB_ID: "slug-123"}


def test_the_headers_are_documented_in_openapi(api: ApiHarness) -> None:
    spec = api.client.get("/openapi.json").json()
    parameters = spec["paths"]["/legacy/decode"]["post"]["parameters"]
    required = {p["name"] for p in parameters if p["required"]}
    assert {"X_API_KEY", "DEC_LANG", "SR", "BUCKET_NAME", "USER_ID"} <= required
    assert {"TAG", "RETURN_URL", "OBJECT_URL"} <= {p["name"] for p in parameters}


@pytest.mark.parametrize(
    ("name", "url"),
    [
        ("OBJECT_URL", "http://169.254.169.254/latest/meta-data"),
        ("OBJECT_URL", "http://10.0.0.5/a.wav"),
        ("RETURN_URL", "http://127.0.0.1:8000/jobcomplete/"),
    ],
)
def test_urls_to_private_addresses_are_bad_requests(
    api: ApiHarness, acme: tuple[Tenant, str], name: str, url: str
) -> None:
    _, key = acme
    response = submit(api, seed_headers(key, **{name: url}))
    assert_error(response, 400, "egress_refused")
    assert api.queue.enqueued == []
