"""kill -9 of the worker running a job in the distributed setup: `dsac-asr api` and
two `dsac-asr worker` processes on PostgreSQL, Redis and an S3-protocol server.
The dead worker's Redis message stays unacknowledged for hours (the visibility
timeout); the sweeper running inside the other worker queues the job again once
its lease expires, and the job succeeds there, with one result."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from postgres_db import postgres_database
from redis_server import running_redis
from s3_server import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY, running_s3_server, s3_client
from service_harness import (
    base_env,
    child_pids,
    create_key,
    dsac_executable,
    free_port,
    wait_for_job,
)
from speech import SENTENCES, concatenate_speech, write_wav

from dsac_asr.jobs.model import JobStatus
from dsac_asr.jobs.store import JobStore

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.slow]
LEASE_S = 5.0


@dataclass
class Cluster:
    """The processes of a distributed deployment on loopback, and their logs."""

    env: dict[str, str]
    logs: Path
    database_url: str
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, name: str, *args: str) -> None:
        log = (self.logs / f"{name}.log").open("ab")
        command = [dsac_executable(), *args]
        self.processes[name] = subprocess.Popen(command, env=self.env, stdout=log, stderr=log)

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def tails(self) -> str:
        return "\n".join(f"--- {name}\n{self.log(name)[-2500:]}" for name in self.processes)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    with postgres_database() as db_url, running_redis() as redis_url, running_s3_server() as s3:
        s3_client(s3).create_bucket(Bucket="media")
        env = base_env(tmp_path / "data")
        env.update(
            DSAC_DATABASE_URL=db_url, DSAC_BROKER_URL=redis_url, DSAC_STORAGE_URL="s3://",
            DSAC_S3_ENDPOINT_URL=s3, DSAC_S3_REGION=REGION, AWS_ACCESS_KEY_ID=ACCESS_KEY_ID,
            AWS_SECRET_ACCESS_KEY=SECRET_ACCESS_KEY, DSAC_JOB_LEASE_S=str(LEASE_S),
        )  # fmt: skip
        running = Cluster(env, tmp_path, db_url)
        try:
            yield running
        finally:
            running.stop()


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    folder = tmp_path_factory.mktemp("distributed-crash-speech")
    audio, _spans = concatenate_speech(folder, [("awb", t) for t in SENTENCES[:20]], 16000)
    return write_wav(folder / "long.wav", [audio], 16000).read_bytes()


def _wait_ready(base_url: str, cluster: Cluster, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"api not ready: {cluster.tails()}")


def _wait_running(api: httpx.Client, job_id: str, cluster: Cluster) -> str:
    """Wait until the job is under way; the name of the worker running it."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job = api.get(f"/v1/jobs/{job_id}").json()
        if job["status"] == "running" and job["progress"] > 0.05:
            holders = [w for w in ("worker-1", "worker-2") if job_id in cluster.log(w)]
            assert len(holders) == 1, cluster.tails()
            return holders[0]
        assert job["status"] in ("queued", "running"), job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} never got going: {cluster.tails()}")


def _kill_tree(process: subprocess.Popen[bytes]) -> None:
    """kill -9 of a worker machine: its main process first (so it cannot hand the
    message back), then its pool processes."""
    children = child_pids(process.pid)
    os.kill(process.pid, signal.SIGKILL)
    for child in children:
        os.kill(child, signal.SIGKILL)
    process.wait(10)


def _wait_claimed_again(store: JobStore, job_id: str, cluster: Cluster) -> float:
    started = time.monotonic()
    while time.monotonic() - started < 10 * LEASE_S:
        job = store.get_job(job_id, None)
        if job.status is JobStatus.RUNNING and job.attempts == 2:
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"not running again: {store.get_job(job_id, None)} {cluster.tails()}")


def test_killing_the_worker_running_a_job_moves_it_to_the_other_worker(
    cluster: Cluster, speech: bytes
) -> None:
    key = create_key(cluster.env, "acme", "media")
    port = free_port()
    cluster.start("api", "api", "--port", str(port))
    cluster.start("worker-1", "worker", "--concurrency", "1")
    cluster.start("worker-2", "worker", "--concurrency", "1")
    base_url = f"http://127.0.0.1:{port}"
    _wait_ready(base_url, cluster)
    store = JobStore.open(cluster.database_url)
    headers = {"Authorization": f"Bearer {key}"}
    try:
        with httpx.Client(base_url=base_url, headers=headers, timeout=30) as api:
            answer = api.post(
                "/v1/jobs", files={"file": ("long.wav", speech, "audio/wav")}, data={}
            )
            assert answer.status_code == 202, answer.text
            job_id = str(answer.json()["id"])
            victim = _wait_running(api, job_id, cluster)
            _kill_tree(cluster.processes[victim])
            again_s = _wait_claimed_again(store, job_id, cluster)
            print(f"running again {again_s:.1f} s after kill -9 (lease {LEASE_S:.0f} s)")
            assert again_s < 2.5 * LEASE_S, cluster.tails()
            finished = wait_for_job(api, job_id, timeout_s=240)
            assert finished["status"] == "succeeded", (finished, cluster.tails())
            text = api.get(f"/v1/jobs/{job_id}/transcript", params={"format": "txt"})
            assert text.status_code == 200 and len(text.text.split()) > 50, text.text
        survivor = "worker-2" if victim == "worker-1" else "worker-1"
        assert f"job {job_id}: claimed (attempt 2" in cluster.log(survivor)
        job = store.get_job(job_id, None)
        assert (job.attempts, job.result_key) == (2, f"decoded/{job_id}.json")
    finally:
        store.close()
    listed = s3_client(cluster.env["DSAC_S3_ENDPOINT_URL"]).list_objects_v2(Bucket="media")
    keys = [item["Key"] for item in listed.get("Contents", [])]
    assert f"decoded/{job_id}.json" in keys, keys
