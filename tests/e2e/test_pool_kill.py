"""kill -9 of an idle worker process (the one that would run the next job) does not
stop the worker: a job submitted afterwards still succeeds, within a bounded time
(embedded default, `dsac-asr serve` as a subprocess)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import pytest
from service_harness import (
    base_env,
    check_one_result_each,
    child_pids,
    create_key,
    job_processes,
    running_service,
    wait_for_job,
)
from speech import SENTENCES, concatenate_speech, write_wav

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.slow]
RECOVERY_S = 60.0
"""A job submitted after the kill must succeed within this long."""


def _settledjob_processes(worker: int, count: int, timeout_s: float = 60) -> list[int]:
    """Wait for ``count`` job processes that have been up a while (idle, waiting for work)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = job_processes(worker)
        if len(found) >= count:
            time.sleep(3.0)  # let them reach their wait for the next task
            if job_processes(worker) == found:
                return found
        time.sleep(0.2)
    raise AssertionError(f"worker {worker} never had {count} job processes")


def _submit(api: httpx.Client, data: bytes) -> str:
    answer = api.post("/v1/jobs", files={"file": ("short.wav", data, "audio/wav")})
    assert answer.status_code == 202, answer.text
    return str(answer.json()["id"])


@pytest.mark.parametrize("workers", [1, 2])
def test_a_worker_recovers_from_kill_9_of_an_idle_job_process(
    workers: int, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("pool-kill-speech")
    audio, _spans = concatenate_speech(folder, [("awb", t) for t in SENTENCES[:2]], 16000)
    speech = write_wav(folder / "short.wav", [audio], 16000).read_bytes()
    env = base_env(tmp_path / "data")
    env["DSAC_JOB_LEASE_S"] = "4"
    key = create_key(env, "acme")
    with running_service(env, tmp_path / "serve.log", workers) as service:
        with service.client(key) as api:
            assert service.process is not None
            (worker,) = child_pids(service.process.pid)
            for pid in _settledjob_processes(worker, workers):
                os.kill(pid, signal.SIGKILL)
            started = time.monotonic()
            job_ids = [_submit(api, speech) for _ in range(workers + 1)]
            finished = [wait_for_job(api, job_id, timeout_s=RECOVERY_S) for job_id in job_ids]
            assert [job["status"] for job in finished] == ["succeeded"] * len(job_ids), finished
            assert time.monotonic() - started < RECOVERY_S
            # and it keeps taking jobs afterwards
            later = _submit(api, speech)
            assert wait_for_job(api, later, timeout_s=RECOVERY_S)["status"] == "succeeded"
    check_one_result_each(env, [*job_ids, later])
