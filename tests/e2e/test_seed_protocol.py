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
    env["DSAC_EGRESS_ALLOW"] = "127.0.0.1"
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
