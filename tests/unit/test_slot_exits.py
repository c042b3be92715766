"""A job slot that dies: stopped from outside (attempt taken back) or crashed (counted),
and its jobs' leases expire at once either way."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from dsac_asr.jobs.holders import process_holder
from dsac_asr.jobs.slot_exits import ExitCause, SlotExits, exit_cause, oom_kills
from dsac_asr.jobs.store import JobStore

pytest.register_assert_rewrite("job_store_suite")
from job_store_suite.helpers import make_job  # noqa: E402

SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]
KILL, TERM, SEGV, ABRT = (
    -s for s in (signal.SIGKILL, signal.SIGTERM, signal.SIGSEGV, signal.SIGABRT)
)


@pytest.mark.parametrize(
    ("returncode", "oom_before", "oom_after", "cause"),
    [
        (KILL, 4, 4, ExitCause.STOPPED),  # kill -9 by someone, no OOM kill meanwhile
        (KILL, 4, 5, ExitCause.CRASHED),  # the out-of-memory killer struck meanwhile
        (KILL, None, None, ExitCause.CRASHED),  # cannot tell: counted
        (KILL, 4, None, ExitCause.CRASHED),
        (TERM, None, None, ExitCause.STOPPED),  # the OOM killer never sends SIGTERM
        (-signal.SIGINT, 0, 0, ExitCause.STOPPED),
        (SEGV, 0, 0, ExitCause.CRASHED),
        (ABRT, 0, 0, ExitCause.CRASHED),
        (1, 0, 0, ExitCause.CRASHED),  # exited holding jobs
        (0, 0, 0, ExitCause.CRASHED),
    ],
)
def test_exit_cause(
    returncode: int, oom_before: int | None, oom_after: int | None, cause: ExitCause
) -> None:
    assert exit_cause(returncode, oom_before, oom_after) is cause


def test_oom_kills_reads_the_kernels_count(tmp_path: Path) -> None:
    vmstat = tmp_path / "vmstat"
    vmstat.write_text("nr_free_pages 1000\noom_kill 7\npgfault 3\n")
    assert oom_kills(vmstat) == 7
    vmstat.write_text("nr_free_pages 1000\n")  # an old kernel
    assert oom_kills(vmstat) is None
    assert oom_kills(tmp_path / "missing") is None


def test_this_machine_reports_its_oom_kills() -> None:
    """Linux 4.13 and later count them; the classification relies on it."""
    assert isinstance(oom_kills(), int)


class Counter:
    """An out-of-memory kill count the test moves by hand."""

    def __init__(self) -> None:
        self.value = 10

    def __call__(self) -> int:
        return self.value


def _slot_holding(store: JobStore, job_id: str) -> subprocess.Popen[bytes]:
    """A real process that holds a new job ``job_id`` (claimed for 600 s)."""
    tenant = store.create_tenant(f"t-{job_id}", ["calls"])
    store.create_job(make_job(tenant, job_id))
    child = subprocess.Popen(SLEEPER)
    claimed = store.claim(job_id, 600, process_holder(child.pid))
    assert claimed is not None and claimed.attempts == 1
    return child


def _killed_slot_with_job(store: JobStore, job_id: str, how: int) -> subprocess.Popen[bytes]:
    """A real process that held ``job_id`` and was killed with signal ``how``."""
    child = _slot_holding(store, job_id)
    child.send_signal(how)
    child.wait(10)
    return child


def test_a_slot_killed_from_outside_hands_its_job_back_uncounted(store: JobStore) -> None:
    exits = SlotExits(store, Counter())
    child = _killed_slot_with_job(store, "j", signal.SIGKILL)
    assert exits.exited("slot 0", child) == ["j"]
    assert [job.id for job in store.expired_leases()] == ["j"]  # not 600 s from now
    assert store.get_job("j", None).attempts == 0


def test_a_slot_killed_by_the_oom_killer_counts_as_a_crash(store: JobStore) -> None:
    counter = Counter()
    exits = SlotExits(store, counter)
    child = _killed_slot_with_job(store, "j", signal.SIGKILL)
    counter.value += 1  # the kernel killed a process for memory since the last look
    assert exits.exited("slot 0", child) == ["j"]
    assert [job.id for job in store.expired_leases()] == ["j"]
    assert store.get_job("j", None).attempts == 1


def test_an_oom_kill_before_the_last_look_is_not_the_slots(store: JobStore) -> None:
    counter = Counter()
    exits = SlotExits(store, counter)
    counter.value += 1
    exits.looked()  # the slot was alive after that kill
    child = _killed_slot_with_job(store, "j", signal.SIGKILL)
    assert exits.exited("slot 0", child) == ["j"]
    assert store.get_job("j", None).attempts == 0


def test_a_segfault_counts_and_other_holders_are_untouched(store: JobStore) -> None:
    tenant = store.create_tenant("other", ["calls"])
    store.create_job(make_job(tenant, "elsewhere"))
    assert store.claim("elsewhere", 600, "otherhost:1") is not None
    exits = SlotExits(store, Counter())
    child = _killed_slot_with_job(store, "j", signal.SIGSEGV)
    assert exits.exited("slot 0", child) == ["j"]
    assert store.get_job("j", None).attempts == 1
    assert [job.id for job in store.expired_leases()] == ["j"]


def test_a_slot_that_held_nothing_changes_nothing(store: JobStore) -> None:
    child = subprocess.Popen(SLEEPER)
    child.kill()
    child.wait(10)
    assert SlotExits(store, Counter()).exited("sweeper", child) == []


def test_a_slot_being_stopped_takes_back_its_attempt_and_keeps_its_lease(
    store: JobStore,
) -> None:
    child = _slot_holding(store, "j")
    try:
        exits = SlotExits(store, Counter())
        assert exits.stopping("slot 0", child) == ["j"]
        job = store.get_job("j", None)
        assert (job.attempts, job.status.value) == (0, "running")
        assert store.expired_leases() == []  # it may still finish the job
    finally:
        child.kill()
        child.wait(10)


def test_stopping_with_the_store_unreachable_is_logged_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    unreachable = JobStore.open("postgresql+psycopg://postgres@127.0.0.1:1/none")
    child = subprocess.Popen(SLEEPER)
    try:
        assert SlotExits(unreachable, Counter()).stopping("slot 0", child) == []
    finally:
        child.kill()
        child.wait(10)
        unreachable.close()
    assert "stopping slot 0; cannot reach the job store" in caplog.text
