"""kill -9 in the middle of a job loses nothing: every job reaches a final state
with exactly one result, and a pending callback is delivered after a restart
(embedded default, `dsac-asr serve` as a subprocess)."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from http_servers import Handler, Received, serving
from service_harness import (
    Service,
    base_env,
    check_one_result_each,
    child_pids,
    create_key,
    free_port,
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


def test_a_job_whose_worker_process_is_killed_again_and_again_still_succeeds(
    env: dict[str, str], speech: bytes, tmp_path: Path
) -> None:
    """kill -9 from outside is no crash of the job's making: killed more often than
    DSAC_MAX_JOB_ATTEMPTS (3), the job still succeeds instead of failing as a poison input."""
    key = create_key(env, "acme")
    log_path = tmp_path / "serve.log"
    with running_service(env, log_path) as service, service.client(key) as api:
        job_id = _submit(api, speech)
        assert service.process is not None
        (worker,) = child_pids(service.process.pid)
        for kill in range(4):
            _wait_in_log(log_path, f"job {job_id}: claimed", times=kill + 1)
            time.sleep(0.5)  # under way (a long clip takes far longer than this)
            for child in child_pids(worker):
                os.kill(child, signal.SIGKILL)
            _wait_in_log(log_path, f"running jobs {job_id}: queued again", times=kill + 1)
        finished = wait_for_job(api, job_id, timeout_s=240)
        assert finished["status"] == "succeeded", finished
    log = log_path.read_text()
    assert log.count("stopped from outside (exit -9)") == 4, log[-3000:]
    assert log.count(f"job {job_id}: claimed (attempt 1") == 5  # none counted as a crash
    check_one_result_each(env, [job_id])


def _wait_in_log(log_path: Path, text: str, times: int, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if log_path.read_text(errors="replace").count(text) >= times:
            return
        time.sleep(0.1)
    raise AssertionError(f"{text!r} not {times} times in the log: {log_path.read_text()[-3000:]}")


def test_killing_the_whole_service_mid_job_loses_nothing(
    env: dict[str, str], speech: bytes, tmp_path: Path
) -> None:
    key = create_key(env, "acme")
    with _killed_at_the_end(env, tmp_path / "first.log") as service, service.client(key) as api:
        job_ids = [_submit(api, speech), _submit(api, speech)]
        _wait_running(api, job_ids)
    with running_service(env, tmp_path / "second.log") as restarted, restarted.client(key) as api:
        finished = [wait_for_job(api, job_id, timeout_s=240) for job_id in job_ids]
        assert [job["status"] for job in finished] == ["succeeded"] * 2, finished
    check_one_result_each(env, job_ids)


def test_a_job_cut_off_when_a_stopping_service_is_killed_is_not_counted_as_a_crash(
    env: dict[str, str], speech: bytes, tmp_path: Path
) -> None:
    """`docker stop`: SIGTERM, then kill -9 when the grace period ends. The worker
    takes back the running job's attempt when told to stop, so a job cut off by
    stops again and again never fails as a poison input (here twice, with a limit
    of one attempt)."""
    env["DSAC_MAX_JOB_ATTEMPTS"] = "1"
    key = create_key(env, "acme")
    job_id = ""
    for stop in range(2):
        log_path = tmp_path / f"stop{stop}.log"
        with _killed_at_the_end(env, log_path) as service:  # when the grace period is over
            with service.client(key) as api:
                job_id = job_id or _submit(api, speech)
            _wait_in_log(log_path, f"job {job_id}: claimed (attempt 1", times=1)
            time.sleep(0.5)  # under way (a long clip takes far longer than this)
            assert service.process is not None
            service.process.send_signal(signal.SIGTERM)
            _wait_in_log(log_path, f"while it runs jobs {job_id}: attempt not counted", times=1)
    with running_service(env, tmp_path / "last.log") as restarted, restarted.client(key) as api:
        finished = wait_for_job(api, job_id, timeout_s=240)
        assert finished["status"] == "succeeded", finished
    assert f"job {job_id}: claimed (attempt 1" in (tmp_path / "last.log").read_text()
    check_one_result_each(env, [job_id])


@contextlib.contextmanager
def _killed_at_the_end(env: dict[str, str], log_path: Path) -> Iterator[Service]:
    """A started service whose processes are all killed -9 when the block ends (also
    when a check in it fails)."""
    service = Service(env, log_path)
    service.start()
    try:
        yield service
    finally:
        _kill_everything(service)


def _kill_everything(service: Service) -> None:
    """kill -9 of serve, its worker and the worker's pool processes."""
    assert service.process is not None
    for pid in [*child_pids(service.process.pid), service.process.pid]:
        for child in [*child_pids(pid), pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)
    service.process.wait(10)


def _attempts(api: httpx.Client, job_id: str) -> list[dict[str, object]]:
    callback = api.get(f"/v1/jobs/{job_id}").json()["callback"]
    return list(callback["attempts"]) if callback else []


def test_a_callback_waiting_for_a_receiver_survives_killing_the_whole_service(
    env: dict[str, str], english_wav: Path, tmp_path: Path
) -> None:
    env.update(DSAC_EGRESS_ALLOW="127.0.0.1", DSAC_CALLBACK_RETRY_S=",".join(["2"] * 30))
    key = create_key(env, "acme")
    port = free_port()  # the receiver is down: nothing listens here yet
    with _killed_at_the_end(env, tmp_path / "first.log") as service, service.client(key) as api:
        files = {"file": ("fox.wav", english_wav.read_bytes(), "audio/wav")}
        data = {"model": "whisper-tiny.en", "callback_url": f"http://127.0.0.1:{port}/hook"}
        job_id = api.post("/v1/jobs", files=files, data=data).json()["id"]
        assert wait_for_job(api, job_id)["status"] == "succeeded"
        deadline = time.monotonic() + 60
        while len(_attempts(api, job_id)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        tried = _attempts(api, job_id)
    assert len(tried) >= 2 and {a["outcome"] for a in tried} == {"retry"}, tried

    def receiver(handler: Handler, _received: Received) -> None:
        handler.reply(204)

    with serving(receiver, port=port) as hook:
        with running_service(env, tmp_path / "second.log") as restarted:
            with restarted.client(key) as api:
                deadline = time.monotonic() + 90
                while not hook.received and time.monotonic() < deadline:
                    time.sleep(0.2)
                time.sleep(5)  # more sweeps: none may send it again
                attempts = _attempts(api, job_id)
    assert len(hook.received) == 1, restarted.log_tail()
    assert hook.received[0].headers["webhook-id"] == f"msg_{job_id}_succeeded"
    assert attempts[-1]["outcome"] == "delivered"
    assert [a["outcome"] for a in attempts].count("delivered") == 1
    numbers = [a["attempt"] for a in attempts]  # one claim per number (a claim cut short
    assert numbers == sorted(set(numbers))  # by the kill may leave a gap, never a repeat)
