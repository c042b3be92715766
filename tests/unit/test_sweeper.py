"""The sweeper on a real SQLite store: its steps, its turns, and orphans queued again."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.register_assert_rewrite("job_store_suite")
from job_store_suite import FakeClock, make_job, token  # noqa: E402

from dsac_asr.errors import TransientError  # noqa: E402
from dsac_asr.jobs.migrations import migrate  # noqa: E402
from dsac_asr.jobs.model import JobStatus, Tenant  # noqa: E402
from dsac_asr.jobs.store import JobStore  # noqa: E402
from dsac_asr.jobs.sweeper import (  # noqa: E402
    Sweeper,
    SweepStep,
    requeue_orphans,
    requeue_queued,
    sweep_steps,
)


class Broker:
    """Records what was enqueued; can be down."""

    def __init__(self) -> None:
        self.enqueued: list[str] = []
        self.down = False

    def enqueue(self, job_id: str) -> None:
        if self.down:
            raise TransientError("the job queue is unreachable")
        self.enqueued.append(job_id)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> Iterator[JobStore]:
    url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    migrate(url)
    store = JobStore.open(url, clock=clock)
    yield store
    store.close()


@pytest.fixture
def acme(store: JobStore) -> Tenant:
    return store.create_tenant("acme", ["calls"])


def test_orphans_are_queued_again_once_and_fenced(
    store: JobStore, clock: FakeClock, acme: Tenant
) -> None:
    for index in range(3):
        store.create_job(make_job(acme, f"j{index}", minute=index))
    dead = token(store.claim("j0", 60))
    store.claim("j1", 600)
    broker = Broker()
    clock.advance(61)
    assert requeue_orphans(store, broker.enqueue) == ["j0"]
    assert broker.enqueued == ["j0"]
    job = store.get_job("j0", None)
    assert (job.status, job.lease_id) == (JobStatus.QUEUED, None)
    assert not store.heartbeat("j0", dead, 0.5, 60)  # the dead worker's claim is spent
    assert requeue_orphans(store, broker.enqueue) == []  # no duplicate message next sweep
    assert requeue_queued(store, broker.enqueue) == ["j0", "j2"]


def test_an_orphan_stays_one_while_the_broker_is_down(
    store: JobStore, clock: FakeClock, acme: Tenant
) -> None:
    store.create_job(make_job(acme, "j"))
    store.claim("j", 60)
    clock.advance(61)
    broker = Broker()
    broker.down = True
    sweeper = Sweeper(store, sweep_steps(store, broker.enqueue), interval_s=15)
    assert sweeper.sweep() == {}  # the step failed, and said so in the log
    assert store.get_job("j", None).status is JobStatus.RUNNING
    broker.down = False
    assert sweeper.sweep() == {"orphans": ["j"]}
    assert broker.enqueued == ["j"]


def test_a_failing_step_does_not_stop_the_next(store: JobStore) -> None:
    ran: list[str] = []

    def broken() -> list[str]:
        raise RuntimeError("bug")

    steps = [SweepStep("broken", broken), SweepStep("next", lambda: ran.append("x") or ["x"])]
    assert Sweeper(store, steps, interval_s=15).sweep() == {"next": ["x"]}
    assert ran == ["x"]


def test_processes_take_turns(store: JobStore, clock: FakeClock, acme: Tenant) -> None:
    broker = Broker()
    first = Sweeper(store, sweep_steps(store, broker.enqueue), interval_s=15)
    second = Sweeper(store, sweep_steps(store, broker.enqueue), interval_s=15)
    second.holder = "another-host:1"
    assert first.sweep_if_due() == {"orphans": []}
    assert second.sweep_if_due() is None
    clock.advance(15)
    assert second.sweep_if_due() == {"orphans": []}
    assert store.sweep_holder("main") == "another-host:1"
    assert first.sweep_if_due() is None


def test_the_background_thread_sweeps_until_stopped(store: JobStore, acme: Tenant) -> None:
    store.create_job(make_job(acme, "j"))
    store.claim("j", -1)  # its worker died at once
    broker = Broker()
    real = JobStore(store.engine)  # the real clock: the turn comes due as time passes
    sweeper = Sweeper(real, sweep_steps(real, broker.enqueue), interval_s=0.2)
    sweeper.start()
    try:
        for _ in range(100):
            if broker.enqueued:
                break
            time.sleep(0.05)
    finally:
        sweeper.stop()
    assert broker.enqueued == ["j"]
