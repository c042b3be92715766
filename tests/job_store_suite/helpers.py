"""Helpers for the job store suite: a fake clock, thread and process races, sample jobs."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import pytest

from dsac_asr.jobs.model import Job, JobOptions, JobSource, JobStatus, SourceKind, Tenant
from dsac_asr.jobs.store import JobStore

T = TypeVar("T")
START = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def race(action: Callable[[], T], parties: int = 2) -> list[T]:
    """Run ``action`` in ``parties`` threads released at the same instant; their results."""
    barrier = threading.Barrier(parties)

    def run() -> T:
        barrier.wait(timeout=10)
        return action()

    with ThreadPoolExecutor(parties) as pool:
        futures = [pool.submit(run) for _ in range(parties)]
        return [future.result(timeout=60) for future in futures]


MIGRATE_AT = """
import sys, time
from dsac_asr.jobs.migrations import migrate
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))
migrate(sys.argv[1])
"""


def migrate_in_processes(url: str, count: int, start_in_s: float = 3.0) -> None:
    """Run ``migrate(url)`` in ``count`` processes that all start it at the same moment."""
    start_at = str(time.time() + start_in_s)  # after every process has imported
    command = [sys.executable, "-c", MIGRATE_AT, url, start_at]
    processes = [subprocess.Popen(command, stderr=subprocess.PIPE) for _ in range(count)]
    for process in processes:
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr.decode()


def make_job(tenant: Tenant, job_id: str, *, minute: int = 0, **changes: object) -> Job:
    """A queued job of ``tenant`` created ``minute`` minutes after ``START``."""
    job = Job(
        id=job_id,
        tenant_id=tenant.id,
        status=JobStatus.QUEUED,
        source=JobSource(SourceKind.OBJECT, "calls", f"in/{job_id}.wav", filename="a.wav"),
        options=JobOptions(language="afr", diarize=True, speakers=2, metadata={"ref": job_id}),
        created_at=START + timedelta(minutes=minute),
    )
    return replace(job, **changes)  # type: ignore[arg-type]


def token(claimed: Job | None) -> str:
    """The claim token (``lease_id``) of a job just claimed."""
    assert claimed is not None and claimed.lease_id, "the job was not claimed"
    return claimed.lease_id


class Tenants:
    """Two tenants for the tests to share a store between."""

    @pytest.fixture
    def acme(self, store: JobStore) -> Tenant:
        return store.create_tenant("acme", ["calls"])

    @pytest.fixture
    def globex(self, store: JobStore) -> Tenant:
        return store.create_tenant("globex", [])
