"""``dsac-asr sweeper`` and the sweeper process every ``dsac-asr worker`` starts,
run as a user runs them (embedded default: SQLite and the filesystem queue)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from service_harness import base_env, child_pids, dsac, dsac_executable

from dsac_asr.jobs.model import Job, JobOptions, JobSource, JobStatus, SourceKind
from dsac_asr.jobs.store import JobStore

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def _open_store(env: dict[str, str]) -> JobStore:
    return JobStore.open(f"sqlite:///{Path(env['DSAC_DATA_DIR']) / 'dsac.sqlite3'}")


def test_sweeper_once_queues_an_orphan_again(tmp_path: Path) -> None:
    env = base_env(tmp_path / "data")
    assert json.loads(dsac("sweeper", "--once", env=env).stdout) == {"orphans": [], "callbacks": []}
    store = _open_store(env)
    try:
        tenant = store.create_tenant("acme", ["media"])
        source = JobSource(SourceKind.OBJECT, "media", key="in/a.wav")
        store.create_job(
            Job("j1", tenant.id, JobStatus.QUEUED, source, JobOptions(), datetime.now(UTC))
        )
        assert store.claim("j1", lease_s=-1.0) is not None  # its worker died at once
        done = dsac("sweeper", "--once", env=env)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == {"orphans": ["j1"], "callbacks": []}
        job = store.get_job("j1", None)
        assert (job.status, job.attempts, job.lease_id) == (JobStatus.QUEUED, 1, None)
    finally:
        store.close()
    messages = list((tmp_path / "data" / "queue").glob("*.msg"))
    assert any(b"j1" in message.read_bytes() for message in messages), messages


def _cmdline(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def test_a_workers_sweeper_stops_when_the_worker_is_killed(tmp_path: Path) -> None:
    env = base_env(tmp_path / "data")
    log = (tmp_path / "worker.log").open("ab")
    worker = subprocess.Popen([dsac_executable(), "worker"], env=env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 60
        sweepers: list[int] = []
        while not sweepers and time.monotonic() < deadline:
            sweepers = [p for p in child_pids(worker.pid) if " sweeper " in _cmdline(p)]
            time.sleep(0.2)
        assert sweepers, (tmp_path / "worker.log").read_text()
        pool = [p for p in child_pids(worker.pid) if p not in sweepers]
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(10)
        for pid in pool:
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 15
        while _cmdline(sweepers[0]) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _cmdline(sweepers[0]), "the sweeper outlived its worker"
    finally:
        if worker.poll() is None:
            worker.kill()
