"""kill -9 in the middle of a job loses nothing: every job reaches a final state
with exactly one result (embedded default, `dsac-asr serve` as a subprocess)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import pytest
from service_harness import (
    Service,
    base_env,
    check_one_result_each,
    child_pids,
    create_key,
    running_service,
    wait_for_job,
)
from speech import SENTENCES, concatenate_speech, write_wav

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.slow]


def _wait_running(api: httpx.Client, job_ids: list[str], timeout_s: float = 60) -> None:
    """Wait until one of the jobs is well under way (both may run in one batch, in
    either order: long clips are recognised one at a time)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for job_id in job_ids:
            job = api.get(f"/v1/jobs/{job_id}").json()
            if job["status"] == "running" and job["progress"] > 0.05:
                return
        time.sleep(0.1)
    raise AssertionError(f"jobs {job_ids} never got going")


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    folder = tmp_path_factory.mktemp("crash-speech")
    audio, _spans = concatenate_speech(folder, [("awb", t) for t in SENTENCES[:20]], 16000)
    return write_wav(folder / "long.wav", [audio], 16000).read_bytes()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    environment = base_env(tmp_path / "data")
    environment["DSAC_JOB_LEASE_S"] = "4"
    return environment


def _submit(api: httpx.Client, data: bytes) -> str:
    answer = api.post("/v1/jobs", files={"file": ("long.wav", data, "audio/wav")})
    assert answer.status_code == 202, answer.text
    return str(answer.json()["id"])


def test_killing_the_worker_process_mid_job_loses_nothing(
    env: dict[str, str], speech: bytes, tmp_path: Path
) -> None:
    key = create_key(env, "acme")
    with running_service(env, tmp_path / "serve.log") as service, service.client(key) as api:
        first, second = _submit(api, speech), _submit(api, speech)
        _wait_running(api, [first, second])
        assert service.process is not None
        (worker,) = child_pids(service.process.pid)
        for child in child_pids(worker):
            os.kill(child, signal.SIGKILL)
        finished = [wait_for_job(api, job_id, timeout_s=240) for job_id in (first, second)]
        assert [job["status"] for job in finished] == ["succeeded", "succeeded"], finished
    check_one_result_each(env, [first, second])


def test_killing_the_whole_service_mid_job_loses_nothing(
    env: dict[str, str], speech: bytes, tmp_path: Path
) -> None:
    key = create_key(env, "acme")
    service = Service(env, tmp_path / "first.log")
    service.start()
    with service.client(key) as api:
        job_ids = [_submit(api, speech), _submit(api, speech)]
        _wait_running(api, job_ids)
    assert service.process is not None
    for pid in [*child_pids(service.process.pid), service.process.pid]:
        for child in child_pids(pid):
            os.kill(child, signal.SIGKILL)
        os.kill(pid, signal.SIGKILL)
    service.process.wait(10)
    with running_service(env, tmp_path / "second.log") as restarted, restarted.client(key) as api:
        finished = [wait_for_job(api, job_id, timeout_s=240) for job_id in job_ids]
        assert [job["status"] for job in finished] == ["succeeded"] * 2, finished
    check_one_result_each(env, job_ids)
