"""Claims, leases, heartbeats, finishing, cancelling, orphans and metrics."""

from __future__ import annotations

from dataclasses import replace
from functools import partial

import pytest

from dsac_asr.jobs.model import JobError, JobStatus, Tenant
from dsac_asr.jobs.store import JobStore

from .helpers import FakeClock, Tenants, make_job, race, token


class LifecycleBehaviour(Tenants):
    """Claiming, leases, heartbeats, finishing, cancelling, orphans and metrics."""

    def test_claim_starts_a_queued_job(
        self, store: JobStore, clock: FakeClock, acme: Tenant
    ) -> None:
        store.create_job(make_job(acme, "j"))
        job = store.claim("j", 60)
        assert job is not None and job.status is JobStatus.RUNNING
        assert (job.attempts, job.started_at) == (1, clock.now)
        assert store.claim("j", 60) is None

    def test_expired_lease_is_reclaimed(
        self, store: JobStore, clock: FakeClock, acme: Tenant
    ) -> None:
        store.create_job(make_job(acme, "j"))
        first = store.claim("j", 60)
        clock.advance(59)
        assert store.claim("j", 60) is None
        clock.advance(2)
        again = store.claim("j", 60)
        assert again is not None and first is not None
        assert again.attempts == 2 and again.started_at == first.started_at

    @pytest.mark.parametrize("status", [JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED])
    def test_final_jobs_are_never_claimed(
        self, store: JobStore, clock: FakeClock, acme: Tenant, status: JobStatus
    ) -> None:
        store.create_job(make_job(acme, "j", status=status))
        clock.advance(10**6)
        assert store.claim("j", 60) is None
        assert store.claim("missing", 60) is None
        assert store.get_job("j", None).attempts == 0

    def test_concurrent_claims_have_one_winner(self, store: JobStore, acme: Tenant) -> None:
        for index in range(5):
            store.create_job(make_job(acme, f"j{index}"))
            results = race(partial(store.claim, f"j{index}", 60))
            assert sorted(result is None for result in results) == [False, True]
            assert store.get_job(f"j{index}", None).attempts == 1

    def test_heartbeat_records_progress_and_extends_lease(
        self, store: JobStore, clock: FakeClock, acme: Tenant
    ) -> None:
        store.create_job(make_job(acme, "j"))
        lease_id = token(store.claim("j", 60))
        clock.advance(50)
        assert store.heartbeat("j", lease_id, 0.4, 60)
        clock.advance(50)
        assert store.claim("j", 60) is None
        assert store.get_job("j", acme.id).progress == pytest.approx(0.4)
        assert store.heartbeat("j", lease_id, 7.0, 60)
        assert store.get_job("j", None).progress == 1.0

    def test_heartbeat_only_while_running(self, store: JobStore, acme: Tenant) -> None:
        store.create_job(make_job(acme, "j"))
        assert not store.heartbeat("j", "no-claim", 0.5, 60)
        lease_id = token(store.claim("j", 60))
        store.cancel("j", acme.id)
        assert not store.heartbeat("j", lease_id, 0.5, 60)
        assert not store.heartbeat("missing", lease_id, 0.5, 60)
        assert store.get_job("j", None).progress == 0.0

    def test_finish_success(self, store: JobStore, clock: FakeClock, acme: Tenant) -> None:
        store.create_job(make_job(acme, "j"))
        lease_id = token(store.claim("j", 60))
        clock.advance(30)
        job = store.finish_success(
            "j",
            lease_id,
            result_key="decoded/j.json",
            duration_s=120.0,
            processing_s=12.0,
            model_id="whisper-base",
            transcript_metadata={"language": "afr"},
        )
        assert job is not None and job == store.get_job("j", acme.id)
        assert job.lease_id is None and job.lease_id == store.get_job("j", None).lease_id
        assert (job.status, job.progress, job.finished_at) == (JobStatus.SUCCEEDED, 1.0, clock.now)
        assert (job.result_key, job.duration_s, job.processing_s) == ("decoded/j.json", 120, 12)
        assert (job.model_id, job.transcript_metadata) == ("whisper-base", {"language": "afr"})
        assert store.claim("j", 60) is None and not store.is_cancelled("j")

    def test_only_running_jobs_succeed(self, store: JobStore, acme: Tenant) -> None:
        queued = store.create_job(make_job(acme, "j"))
        after = store.finish_success(
            "j", "any", result_key="r", duration_s=1, processing_s=1, model_id="m",
            transcript_metadata={},
        )  # fmt: skip
        assert after is None and store.get_job("j", None) == queued

    def test_finish_does_not_override_cancel(self, store: JobStore, acme: Tenant) -> None:
        store.create_job(make_job(acme, "j"))
        lease_id = token(store.claim("j", 60))
        cancelled = store.cancel("j", acme.id)
        after = store.finish_success(
            "j", lease_id, result_key="r", duration_s=1, processing_s=1, model_id="m",
            transcript_metadata={},
        )  # fmt: skip
        assert after is None and cancelled.status is JobStatus.CANCELLED
        assert store.finish_failure("j", "engine_error", "boom", lease_id=lease_id) is None
        assert store.finish_failure("j", "engine_error", "boom", lease_id=None) is None
        assert store.get_job("j", None) == cancelled

    def test_finish_failure(self, store: JobStore, clock: FakeClock, acme: Tenant) -> None:
        store.create_job(make_job(acme, "j"))
        job = store.finish_failure("j", "not_media", "not an audio file", lease_id=None)
        assert job is not None and job.status is JobStatus.FAILED
        assert job.finished_at == clock.now and job == store.get_job("j", None)
        assert job.error == JobError("not_media", "not an audio file")
        assert store.finish_failure("missing", "x", "y", lease_id=None) is None
        store.create_job(make_job(acme, "r"))
        lease_id = token(store.claim("r", 60))
        assert store.finish_failure("r", "x", "y", lease_id=None) is None  # not without its claim
        failed = store.finish_failure("r", "engine_error", "boom", lease_id=lease_id)
        assert failed is not None and failed.status is JobStatus.FAILED

    def test_cancel(self, store: JobStore, clock: FakeClock, acme: Tenant) -> None:
        store.create_job(make_job(acme, "q"))
        store.create_job(make_job(acme, "r"))
        store.claim("r", 60)
        assert not store.is_cancelled("r")
        for job_id in ("q", "r"):
            job = store.cancel(job_id, acme.id)
            assert job.status is JobStatus.CANCELLED and job.finished_at == clock.now
            assert store.is_cancelled(job_id) and store.claim(job_id, 60) is None

    def test_cancel_leaves_final_jobs(self, store: JobStore, acme: Tenant) -> None:
        done = store.create_job(make_job(acme, "j", status=JobStatus.SUCCEEDED))
        assert store.cancel("j", acme.id) == done

    def test_release_hands_the_job_back(self, store: JobStore, acme: Tenant) -> None:
        store.create_job(make_job(acme, "j"))
        lease_id = token(store.claim("j", 60))
        assert store.release("j", lease_id)
        assert store.get_job("j", None).status is JobStatus.QUEUED
        assert store.get_job("j", None).lease_id is None
        again = store.claim("j", 60)
        # A released (transient) attempt does not count towards the crash bound.
        assert again is not None and again.attempts == 1
        assert not store.release("j", lease_id)  # the first claim's token is spent
        store.cancel("j", acme.id)
        assert not store.release("j", token(again))

    def test_expired_leases_and_queued_ids(
        self, store: JobStore, clock: FakeClock, acme: Tenant
    ) -> None:
        for index in range(4):
            store.create_job(make_job(acme, f"j{index}", minute=10 - index))
        store.create_job(make_job(acme, "done", status=JobStatus.FAILED))
        store.claim("j1", 30)
        store.claim("j2", 300)
        clock.advance(60)
        assert [job.id for job in store.expired_leases()] == ["j1"]
        assert store.queued_ids() == ["j3", "j0"]
        assert store.get_job("j1", None).status is JobStatus.RUNNING

    def test_queued_jobs_for_a_batch_are_never_started_ones_oldest_first(
        self, store: JobStore, acme: Tenant, globex: Tenant
    ) -> None:
        for index in range(5):
            store.create_job(make_job(acme if index % 2 else globex, f"j{index}", minute=9 - index))
        store.claim("j1", 30)
        # handed back: queued again, never ran to a crash
        store.release("j3", token(store.claim("j3", 30)))
        store.cancel("j4", globex.id)
        assert [job.id for job in store.queued_jobs(10)] == ["j3", "j2", "j0"]
        assert [job.id for job in store.queued_jobs(2)] == ["j3", "j2"]
        store.claim("j2", 30)
        assert [job.id for job in store.queued_jobs(10)] == ["j3", "j0"]

    def test_metrics(self, store: JobStore, acme: Tenant, globex: Tenant) -> None:
        runs = [("a", acme, 100.0, 10.0), ("b", globex, 50.0, 25.0), ("c", acme, 0.0, 1.0)]
        for minute, (job_id, tenant, duration_s, processing_s) in enumerate(runs):
            store.create_job(make_job(tenant, job_id))
            store.finish_success(
                job_id,
                token(store.claim(job_id, 60)),
                result_key="r",
                duration_s=duration_s,
                processing_s=processing_s,
                model_id="m",
                transcript_metadata={},
            )
            store.create_job(make_job(tenant, f"{job_id}-queued", minute=minute))
        failed = make_job(acme, "failed", status=JobStatus.FAILED, duration_s=40.0)
        store.create_job(replace(failed, processing_s=4.0))
        counts = store.count_by_status()
        expected = {JobStatus.SUCCEEDED: 3, JobStatus.QUEUED: 3, JobStatus.FAILED: 1}
        assert counts == {**dict.fromkeys(JobStatus, 0), **expected}
        assert store.audio_seconds_processed() == pytest.approx(150.0)
        assert sorted(store.realtime_factors()) == pytest.approx([0.1, 0.5])
        assert len(store.realtime_factors(limit=1)) == 1
