"""kill -9 of the worker in the middle of a batch of short jobs loses none of them:
every job reaches success with exactly one result (`dsac-asr serve`, one worker),
and the kill is not counted against the batch's jobs as a crash."""

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
    running_service,
    wait_for_job,
)
from speech import SENTENCES, concatenate_speech, write_wav

from dsac_asr.jobs.store import JobStore

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.slow]
JOBS = 10


@pytest.fixture(scope="module")
def short_clips(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    folder = tmp_path_factory.mktemp("batch-crash")
    clips = []
    for index in range(JOBS):
        voice = ("slt", "rms", "awb")[index % 3]
        audio, _spans = concatenate_speech(folder, [(voice, SENTENCES[index])], 16000)
        clips.append(write_wav(folder / f"clip{index}.wav", [audio], 16000).read_bytes())
    return clips


def _running(api: httpx.Client, job_ids: list[str]) -> list[str]:
    jobs = api.get("/v1/jobs", params={"limit": 200}).json()["jobs"]
    return [job["id"] for job in jobs if job["id"] in job_ids and job["status"] == "running"]


def _wait_for_a_batch(api: httpx.Client, job_ids: list[str], timeout_s: float = 120) -> list[str]:
    """The jobs running at once, once there are several (one worker: a batch)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        running = _running(api, job_ids)
        if len(running) >= 2:
            return running
        time.sleep(0.05)
    raise AssertionError("no batch of jobs was ever running")


def _interrupted_then_rerun(log: str) -> list[str]:
    """The jobs the supervisor found held by the killed slot (its "stopped from
    outside" line, written when the slot died: a mate claimed in the database
    but killed before its thread logged counts too), each checked to have been
    claimed again after that line."""
    marker = "stopped from outside (exit -9) while running jobs "
    assert marker in log, "the supervisor did not see the slot killed from outside"
    _before, after = log.split(marker, 1)
    held, after = after.split(":", 1)
    interrupted = [job_id.strip() for job_id in held.split(",")]
    for job_id in interrupted:
        assert f"job {job_id}: claimed" in after, f"job {job_id} was not run again"
    return interrupted


def test_killing_the_worker_mid_batch_loses_none_of_its_jobs(
    tmp_path: Path, short_clips: list[bytes]
) -> None:
    env = base_env(tmp_path / "data")
    env["DSAC_JOB_LEASE_S"] = "4"
    env["DSAC_JOB_BATCH_SIZE"] = "8"
    key = create_key(env, "acme")
    with running_service(env, tmp_path / "serve.log") as service, service.client(key) as api:
        job_ids = []
        for index, data in enumerate(short_clips):
            answer = api.post("/v1/jobs", files={"file": (f"c{index}.wav", data, "audio/wav")})
            assert answer.status_code == 202, answer.text
            job_ids.append(str(answer.json()["id"]))
        batch = _wait_for_a_batch(api, job_ids)
        assert service.process is not None
        (worker,) = child_pids(service.process.pid)
        for child in child_pids(worker):
            os.kill(child, signal.SIGKILL)
        finished = [wait_for_job(api, job_id, timeout_s=240) for job_id in job_ids]
        assert [job["status"] for job in finished] == ["succeeded"] * JOBS, finished
    check_one_result_each(env, job_ids)
    interrupted = _interrupted_then_rerun((tmp_path / "serve.log").read_text())
    assert len(set(interrupted) & set(batch)) >= 2, "the kill did not interrupt the batch"
    store = JobStore.open(f"sqlite:///{Path(env['DSAC_DATA_DIR']) / 'dsac.sqlite3'}")
    try:
        attempts = [store.get_job(job_id, None).attempts for job_id in interrupted]
    finally:
        store.close()
    assert attempts == [1] * len(interrupted)  # killed from outside: no crash counted
