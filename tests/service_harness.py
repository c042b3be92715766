"""Running ``dsac-asr serve`` as a subprocess on loopback, as a user would, for tests."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx


def dsac_executable() -> str:
    """The ``dsac-asr`` command of the Python running the tests (its venv need not be on PATH)."""
    beside = Path(sys.executable).with_name("dsac-asr")
    found = str(beside) if beside.exists() else shutil.which("dsac-asr")
    assert found is not None, "dsac-asr is not installed (pip install -e '.[test]')"
    return found


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def dsac(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the installed ``dsac-asr`` command."""
    return subprocess.run(
        [dsac_executable(), *args], env=env, capture_output=True, text=True, timeout=120
    )


def create_key(env: dict[str, str], tenant: str, *buckets: str) -> str:
    """A new API key for ``tenant`` (created if needed), granted ``buckets``."""
    args = ["keys", "create", "--tenant", tenant, "--json"]
    for bucket in buckets:
        args += ["--bucket", bucket]
    done = dsac(*args, env=env)
    assert done.returncode == 0, done.stderr
    return str(json.loads(done.stdout)["api_key"])


class Service:
    """A running ``dsac-asr serve`` and a client for it."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env, self.log_path = env, log_path
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, workers: int = 1, timeout_s: float = 90) -> None:
        """Start serve and wait until /readyz answers 200."""
        log = self.log_path.open("ab")
        args = [dsac_executable(), "serve", "--port", str(self.port), "--workers", str(workers)]
        self.process = subprocess.Popen(args, env=self.env, stdout=log, stderr=log)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"serve exited early: {self.log_tail()}"
            try:
                if httpx.get(f"{self.base_url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise AssertionError(f"serve not ready in {timeout_s} s: {self.log_tail()}")

    def stop(self, timeout_s: float = 120) -> int:
        """SIGTERM, as a service manager stops it; return its exit status."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise AssertionError(
                f"serve did not stop in {timeout_s} s: {self.log_tail()}"
            ) from None

    def log_tail(self) -> str:
        """The end of the service's log, for failure messages."""
        return self.log_path.read_text(errors="replace")[-3000:] if self.log_path.exists() else ""

    def client(self, key: str | None) -> httpx.Client:
        """An HTTP client carrying ``key``."""
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=30)


@contextmanager
def running_service(env: dict[str, str], log_path: Path, workers: int = 1) -> Iterator[Service]:
    """A started service, stopped (and checked to stop cleanly) afterwards."""
    service = Service(env, log_path)
    service.start(workers)
    try:
        yield service
    finally:
        status = service.stop()
        assert status == 0, f"serve exited with {status}: {service.log_tail()}"


def wait_for_job(client: httpx.Client, job_id: str, timeout_s: float = 180) -> dict[str, Any]:
    """Poll the job until it is final; return its last state."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"/v1/jobs/{job_id}").json()
        if job["status"] in ("succeeded", "failed", "cancelled"):
            return job
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} not finished in {timeout_s} s")


def child_pids(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (read from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def job_processes(worker: int) -> list[int]:
    """The processes under a worker that run jobs (everything but its sweeper)."""
    found = []
    for pid in child_pids(worker):
        with contextlib.suppress(OSError):
            if b"sweeper" not in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(pid)
    return found


def check_one_result_each(env: dict[str, str], job_ids: list[str]) -> None:
    """Every job succeeded, and the embedded service's objects hold one result per job."""
    from dsac_asr.jobs.model import JobStatus
    from dsac_asr.jobs.store import JobStore
    from dsac_asr.storage import LocalObjectStore

    store = JobStore.open(f"sqlite:///{Path(env['DSAC_DATA_DIR']) / 'dsac.sqlite3'}")
    objects = LocalObjectStore(Path(env["DSAC_DATA_DIR"]) / "objects")
    try:
        for job_id in job_ids:
            job = store.get_job(job_id, None)
            assert job.status is JobStatus.SUCCEEDED
            assert objects.exists(job.source.bucket, f"decoded/{job_id}.json")
    finally:
        store.close()
    results = list((Path(env["DSAC_DATA_DIR"]) / "objects").rglob("decoded/*.json"))
    assert len([r for r in results if not r.name.endswith(".transcript.json")]) == len(job_ids)


def base_env(data_dir: Path) -> dict[str, str]:
    """The environment of an embedded service under ``data_dir`` (bundled models only)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DSAC_")}
    env["DSAC_DATA_DIR"] = str(data_dir)
    env["DSAC_MODELS_DIR"] = str(data_dir / "models")
    return env
