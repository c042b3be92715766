"""The seed front end's protocol end to end: header submission to `dsac-asr serve`,
the result at decoded/<TAG>.json in BUCKET_NAME, and the multipart callback."""

from __future__ import annotations

import json
import time
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path

import pytest
from http_servers import Handler, Received, serving
from service_harness import base_env, create_key, running_service, wait_for_job

from dsac_asr.storage import LocalObjectStore

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.slow]


def _file_part(received: Received) -> tuple[str | None, bytes]:
    """The filename and content of the multipart field ``file``."""
    content_type = {k.lower(): v for k, v in received.headers.items()}["content-type"]
    header = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(header + received.body)
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") == "file":
            return part.get_filename(), bytes(part.get_payload(decode=True))
    raise AssertionError("no 'file' part in the callback")


def _seed_headers(key: str, return_url: str, **extra: str) -> dict[str, str]:
    return {
        "X_API_KEY": key, "DEC_LANG": "eng", "SR": "BB", "NUM_CHANNELS": "1", "SAC": "yes",
        "DIA": "no", "BUCKET_NAME": "media", "OBJECT_PATH": "in/fox.wav", "USER_ID": "u-17",
        "TAG": "fox-tag", "JOB_ID": "fe-job-9", "FE_API_KEY": "front-end-key",
        "RETURN_URL": return_url, "SOURCE": "web", "BATCHED": "no", **extra,
    }  # fmt: skip


def test_front_end_submission_result_and_multipart_callback(
    english_wav: Path, tmp_path: Path
) -> None:
    env = base_env(tmp_path / "data")
    env.update(DSAC_EGRESS_ALLOW="127.0.0.1", DSAC_CALLBACK_KEY_OVER_HTTP="true")
    key = create_key(env, "frontend", "media")
    objects = LocalObjectStore(tmp_path / "data" / "objects")
    objects.put_bytes("media", "in/fox.wav", english_wav.read_bytes(), "audio/wav")

    def receiver(handler: Handler, _received: Received) -> None:
        handler.reply(200, b"ok")

    with serving(receiver) as hook:
        with running_service(env, tmp_path / "serve.log") as service, service.client(None) as http:
            answer = http.post(
                "/legacy/decode", headers=_seed_headers(key, hook.url("/jobcomplete/"))
            )
            assert answer.status_code == 200, answer.text
            body = answer.json()
            assert body["tag"] == "fox-tag" and body["client_job_id"] == "fe-job-9"
            with service.client(key) as api:
                assert wait_for_job(api, body["job_id"])["status"] == "succeeded"
            deadline = time.monotonic() + 30
            while not hook.received and time.monotonic() < deadline:
                time.sleep(0.2)
    stored = json.loads(objects.get_bytes("media", "decoded/fox-tag.json"))
    assert "fox" in stored["results"][0]["alternatives"][0]["transcript"].lower()
    (callback,) = hook.received
    assert callback.path == "/jobcomplete/"
    assert callback.headers["X-API-KEY"] == "front-end-key"
    assert callback.headers["USER-ID"] == "u-17"
    assert callback.headers["JOB-ID"] == "fe-job-9"
    assert callback.headers["S3-PATH"] == "decoded/fox-tag.json"
    assert callback.headers["STATUS"] == "SUCCESS"
    filename, content = _file_part(callback)
    assert filename == "fox-tag.json"
    assert json.loads(content) == stored


def _files_holding(folder: Path, secret: str) -> list[Path]:
    return [f for f in folder.rglob("*") if f.is_file() and secret.encode() in f.read_bytes()]


def test_a_failed_job_calls_back_with_a_transcript_and_no_key_is_kept(tmp_path: Path) -> None:
    env = base_env(tmp_path / "data")
    env.update(DSAC_EGRESS_ALLOW="127.0.0.1", DSAC_CALLBACK_KEY_OVER_HTTP="true")
    key = create_key(env, "frontend", "media")
    objects = LocalObjectStore(tmp_path / "data" / "objects")
    objects.put_bytes("media", "in/fox.wav", b"not audio at all" * 64, "audio/wav")

    def receiver(handler: Handler, _received: Received) -> None:
        handler.reply(200, b'{"result": "Success"}')

    with serving(receiver) as hook:
        with running_service(env, tmp_path / "serve.log") as service, service.client(None) as http:
            headers = _seed_headers(key, hook.url("/jobcomplete/"))
            del headers["FE_API_KEY"]  # the submitting key goes back as X-API-KEY
            answer = http.post("/legacy/decode", headers=headers)
            assert answer.status_code == 200, answer.text
            job_id = answer.json()["job_id"]
            with service.client(key) as api:
                assert wait_for_job(api, job_id)["status"] == "failed"
                deadline = time.monotonic() + 30
                while not hook.received and time.monotonic() < deadline:
                    time.sleep(0.2)
                time.sleep(1)  # let the attempt be recorded
                job = api.get(f"/v1/jobs/{job_id}").json()
    (callback,) = hook.received
    assert callback.headers["STATUS"] == "ERROR" and callback.headers["X-API-KEY"] == key
    _, content = _file_part(callback)
    alternative = json.loads(content)["results"][0]["alternatives"][0]
    assert alternative["transcript"].startswith("Transcription failed: ")
    assert len(alternative["words"]) == 1 and alternative["words"][0]["speaker"]
    assert [a["outcome"] for a in job["callback"]["attempts"]] == ["delivered"]
    assert _files_holding(tmp_path / "data", key) == []  # database, WAL, queue: no key
