"""URL sources and callbacks through `dsac-asr serve` (embedded default), against
real HTTP servers on loopback that the operator allowed with DSAC_EGRESS_ALLOW."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from http_servers import Handler, Received, serving
from service_harness import base_env, create_key, running_service, wait_for_job

from dsac_asr.callbacks.webhooks import verify

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.slow]


def _wait_for(condition: object, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


def _secret(env: dict[str, str], tenant: str) -> tuple[str, str]:
    from service_harness import dsac

    done = dsac("keys", "create", "--tenant", tenant, "--json", env=env)
    data = json.loads(done.stdout)
    return data["api_key"], data["webhook_secret"]


def test_url_source_and_signed_callback_with_retries(english_wav: Path, tmp_path: Path) -> None:
    env = base_env(tmp_path / "data")
    env.update(DSAC_EGRESS_ALLOW="127.0.0.1", DSAC_CALLBACK_RETRY_S="0.5,0.5,0.5")
    key, secret = _secret(env, "acme")
    audio = english_wav.read_bytes()
    answers = iter([500, 302, 204])

    def media(handler: Handler, _received: Received) -> None:
        handler.reply(200, audio, {"Content-Type": "audio/wav"})

    def receiver(handler: Handler, _received: Received) -> None:
        status = next(answers, 204)
        handler.reply(status, b"", {"Location": "http://127.0.0.1:9/elsewhere"})

    with serving(media) as source, serving(receiver) as hook:
        with running_service(env, tmp_path / "serve.log") as service, service.client(key) as api:
            body = {"source": {"url": source.url("/fox.wav")}, "model": "whisper-tiny.en",
                    "callback_url": hook.url("/hook"), "metadata": {"ticket": "7"}}  # fmt: skip
            created = api.post("/v1/jobs", json=body)
            assert created.status_code == 202, created.text
            job_id = created.json()["id"]
            assert wait_for_job(api, job_id)["status"] == "succeeded"
            _wait_for(lambda: len(hook.received) >= 3)
            time.sleep(2)  # no fourth delivery may follow a success
            job = api.get(f"/v1/jobs/{job_id}").json()
    assert [r.path for r in source.received] == ["/fox.wav"]
    assert len(hook.received) == 3
    ids = {r.headers["webhook-id"] for r in hook.received}
    assert ids == {f"msg_{job_id}_succeeded"}  # the same id on every attempt
    final = hook.received[-1]
    assert verify(secret, final.headers, final.body)
    event = json.loads(final.body)
    assert event["type"] == "job.succeeded"
    assert event["data"]["job"]["metadata"] == {"ticket": "7"}
    assert (
        "fox" in event["data"]["transcript"]["results"][0]["alternatives"][0]["transcript"].lower()
    )
    callback = job["callback"]
    assert callback["delivered"] is True
    assert [a["status_code"] for a in callback["attempts"]] == [500, 302, 204]
    assert [a["outcome"] for a in callback["attempts"]] == ["retry", "retry", "delivered"]


def test_failed_job_calls_back_with_its_error_and_a_gone_receiver_stops(
    tmp_path: Path,
) -> None:
    env = base_env(tmp_path / "data")
    env.update(DSAC_EGRESS_ALLOW="127.0.0.1", DSAC_CALLBACK_RETRY_S="0.2,0.2,0.2")
    key, secret = _secret(env, "acme")

    def gone(handler: Handler, _received: Received) -> None:
        handler.reply(410)

    with serving(gone) as hook:
        with running_service(env, tmp_path / "serve.log") as service, service.client(key) as api:
            files = {"file": ("notes.wav", b"not audio at all" * 50, "audio/wav")}
            data = {"model": "whisper-tiny.en", "callback_url": hook.url("/hook")}
            job_id = api.post("/v1/jobs", files=files, data=data).json()["id"]
            assert wait_for_job(api, job_id)["status"] == "failed"
            _wait_for(lambda: len(hook.received) >= 1)
            time.sleep(2)
            job = api.get(f"/v1/jobs/{job_id}").json()
    assert len(hook.received) == 1  # 410: never again
    event = json.loads(hook.received[0].body)
    assert event["type"] == "job.failed"
    assert event["data"]["job"]["error"]["code"] == "not_media"
    assert verify(secret, hook.received[0].headers, hook.received[0].body)
    assert [a["outcome"] for a in job["callback"]["attempts"]] == ["gone"]


def test_refused_url_fails_at_submission(tmp_path: Path) -> None:
    env = base_env(tmp_path / "data")
    key = create_key(env, "acme")
    with running_service(env, tmp_path / "serve.log") as service, service.client(key) as api:
        answer = api.post("/v1/jobs", json={"source": {"url": "http://127.0.0.1:1/a.wav"}})
        assert answer.status_code == 422
        assert answer.json()["error"]["code"] == "egress_refused"
