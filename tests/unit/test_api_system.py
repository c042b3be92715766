"""Health, readiness, metrics, the model list, the OpenAPI page and the error mapping."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_fakes import ApiHarness, finish_job, make_harness, small_transcript

from dsac_asr.api.errors import ApiError, status_for
from dsac_asr.errors import (
    CorruptMediaError,
    DecodeTimeoutError,
    DsacError,
    EngineError,
    InputError,
    InvalidOptionError,
    MediaTooLargeError,
    MissingExtraError,
    ModelError,
    ModelNotFoundError,
    NoModelForRequestError,
    NotFoundError,
    TransientError,
    UnknownLanguageError,
)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[ApiHarness]:
    harness = make_harness(tmp_path)
    yield harness
    harness.client.close()
    harness.store.close()


def metric(text: str, name: str) -> float:
    """The value of the sample line ``name`` (with its labels) in a Prometheus text body."""
    match = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    assert match is not None, f"{name} not in metrics:\n{text}"
    return float(match.group(1))


# --- health and readiness --------------------------------------------------------


def test_healthz_needs_no_key(api: ApiHarness) -> None:
    response = api.client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_when_everything_answers(api: ApiHarness) -> None:
    response = api.client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "ready": True,
        "checks": {"database": "ok", "broker": "ok", "storage": "ok"},
    }


def test_readyz_names_the_broker_when_it_is_down(api: ApiHarness) -> None:
    api.queue.fail_ping = True
    response = api.client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["ready"] is False
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["storage"] == "ok"
    assert "unreachable" in body["checks"]["broker"]


def test_readyz_names_the_storage_when_it_cannot_be_written(api: ApiHarness) -> None:
    api.objects.root.parent.mkdir(parents=True, exist_ok=True)
    api.objects.root.write_bytes(b"a file where the folder should be")
    response = api.client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["storage"] != "ok"
    assert checks["broker"] == checks["database"] == "ok"


# --- metrics -------------------------------------------------------------------------


def test_metrics_count_jobs_by_state(api: ApiHarness) -> None:
    _, headers = api.tenant("acme")
    ids = [api.upload(headers).json()["id"] for _ in range(3)]
    finish_job(api, ids[0], small_transcript())
    response = api.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert metric(text, 'dsac_jobs{state="queued"}') == 2.0
    assert metric(text, 'dsac_jobs{state="succeeded"}') == 1.0
    assert metric(text, 'dsac_jobs{state="failed"}') == 0.0
    assert metric(text, "dsac_queue_depth") == 2.0
    assert metric(text, "dsac_audio_seconds_processed") == 4.0
    # processing 0.5 s for 4 s of audio: a real-time factor of 0.125
    assert metric(text, 'dsac_processing_rtf_bucket{le="0.1"}') == 0.0
    assert metric(text, 'dsac_processing_rtf_bucket{le="0.15"}') == 1.0
    assert metric(text, 'dsac_processing_rtf_bucket{le="+Inf"}') == 1.0
    assert metric(text, "dsac_processing_rtf_count") == 1.0
    assert metric(text, "dsac_processing_rtf_sum") == pytest.approx(0.125)


def test_metrics_of_an_empty_store(api: ApiHarness) -> None:
    text = api.client.get("/metrics").text
    assert metric(text, 'dsac_jobs{state="queued"}') == 0.0
    assert metric(text, "dsac_queue_depth") == 0.0
    assert metric(text, "dsac_audio_seconds_processed") == 0.0
    assert metric(text, 'dsac_processing_rtf_bucket{le="+Inf"}') == 0.0


# --- models --------------------------------------------------------------------------


def test_models_need_a_key(api: ApiHarness) -> None:
    response = api.client.get("/v1/models")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_models_list_the_bundled_whisper_models(api: ApiHarness) -> None:
    _, headers = api.tenant("acme")
    response = api.client.get("/v1/models", headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "list"  # OpenAI's list shape: {"object": "list", "data": [...]}
    models = {model["id"]: model for model in body["data"]}
    base = models["whisper-base"]
    assert base["object"] == "model"
    assert isinstance(base["created"], int) and base["owned_by"]
    assert base["languages"] == ["eng", "afr"]
    assert base["engine"] == "whisper"
    assert base["band"] == "bb"
    assert base["sample_rate_hz"] == 16000
    assert base["domain"] is None
    assert "PARL" in base["domains"]
    assert models["whisper-tiny.en"]["languages"] == ["eng"]


def test_models_list_the_rate_a_model_takes_audio_at(api: ApiHarness, tmp_path: Path) -> None:
    """A narrowband CTC model (trained on telephone audio) still takes 16 kHz audio:
    the list says what the service decodes for it, as routing does."""
    folder = tmp_path / "models" / "zul-ctc-nb"  # the harness's models folder
    folder.mkdir(parents=True)
    manifest = {"id": "zul-ctc-nb", "engine": "ctc", "languages": ["zul"], "band": "nb"}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    _, headers = api.tenant("acme")
    models = {m["id"]: m for m in api.client.get("/v1/models", headers=headers).json()["data"]}
    assert models["zul-ctc-nb"]["band"] == "nb"
    assert models["zul-ctc-nb"]["sample_rate_hz"] == 16000


# --- OpenAPI -------------------------------------------------------------------------


def test_openapi_documents_both_kinds_of_job_submission(api: ApiHarness) -> None:
    response = api.client.get("/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    content = spec["paths"]["/v1/jobs"]["post"]["requestBody"]["content"]
    assert set(content) == {"multipart/form-data", "application/json"}
    multipart = content["multipart/form-data"]["schema"]
    assert multipart["required"] == ["file"]
    assert multipart["properties"]["file"] == {"type": "string", "format": "binary"}
    assert {"language", "band", "channels", "metadata"} <= set(multipart["properties"])
    assert content["application/json"]["schema"] == {"$ref": "#/components/schemas/JobCreate"}


def _refs(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def test_openapi_references_all_resolve(api: ApiHarness) -> None:
    spec = api.client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    refs = set(_refs(spec))
    assert "#/components/schemas/JobOut" in refs
    prefix = "#/components/schemas/"
    assert all(ref.startswith(prefix) for ref in refs), refs
    missing = sorted(ref for ref in refs if ref.removeprefix(prefix) not in schemas)
    assert missing == []
    job_create = schemas["JobCreate"]
    assert "source" in job_create["required"]
    assert {"source", "language", "metadata"} <= set(job_create["properties"])


def test_openapi_documents_every_route(api: ApiHarness) -> None:
    paths = api.client.get("/openapi.json").json()["paths"]
    assert set(paths["/v1/jobs"]) == {"get", "post"}
    assert set(paths["/v1/jobs/{job_id}"]) == {"get", "delete"}
    assert "/v1/jobs/{job_id}/transcript" in paths
    assert {"/v1/models", "/healthz", "/readyz", "/metrics"} <= set(paths)


def test_docs_page_is_served(api: ApiHarness) -> None:
    response = api.client.get("/docs")
    assert response.status_code == 200
    assert "swagger" in response.text.lower()
    assert "/openapi.json" in response.text


def test_unknown_route_answers_json_not_found(api: ApiHarness) -> None:
    response = api.client.get("/v2/nothing")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_wrong_method_answers_json_405(api: ApiHarness) -> None:
    response = api.client.put("/v1/jobs")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


# --- the error mapping -------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (MediaTooLargeError("big"), 413),
        (NoModelForRequestError("none"), 422),
        (ModelNotFoundError("none"), 422),
        (NotFoundError("gone"), 404),
        (TransientError("later"), 503),
        (InputError("bad"), 422),
        (InvalidOptionError("bad"), 422),
        (UnknownLanguageError("bad"), 422),
        (CorruptMediaError("bad"), 422),
        (MissingExtraError("install it"), 501),
        (DsacError("oops"), 500),
        (ModelError("broken"), 500),
        (EngineError("failed"), 500),
        (DecodeTimeoutError("loop"), 500),
        (ApiError(409, "not_finished", "wait"), 409),
        (ApiError(403, "bucket_forbidden", "no"), 403),
    ],
)
def test_status_for_each_error(error: DsacError, status: int) -> None:
    assert status_for(error) == status


def test_an_api_error_keeps_its_code() -> None:
    error = ApiError(403, "bucket_forbidden", "no")
    assert (error.code, error.message, error.status_code) == ("bucket_forbidden", "no", 403)
