"""Fenced claims: every change a worker makes names its claim's token, and a stale
claim (whose lease ran out and whose job another claim took) changes nothing.
Also the sweeper's turns."""

from __future__ import annotations

from functools import partial

from dsac_asr.jobs.model import JobStatus, Tenant
from dsac_asr.jobs.store import JobStore

from .helpers import FakeClock, Tenants, make_job, race, token

SUCCESS = {
    "result_key": "decoded/j.json",
    "duration_s": 10.0,
    "processing_s": 1.0,
    "model_id": "m",
    "transcript_metadata": {},
}


def _three_held_by_host1_one_by_host2(store: JobStore, acme: Tenant) -> dict[str, str]:
    """Jobs "a", "b", "c" claimed by process ``host:1`` and "d" by ``host:2``, for 60 s;
    the claim tokens of host:1's."""
    for job_id in ("a", "b", "c", "d"):
        store.create_job(make_job(acme, job_id))
    claims = {job_id: token(store.claim(job_id, 60, "host:1")) for job_id in ("a", "b", "c")}
    token(store.claim("d", 60, "host:2"))
    return claims


class FencingBehaviour(Tenants):
    """Claim tokens, stale claims, orphans handed back, sweep turns."""

    def test_each_claim_has_its_own_token(
        self, store: JobStore, clock: FakeClock, acme: Tenant
    ) -> None:
        store.create_job(make_job(acme, "j"))
        first = token(store.claim("j", 60))
        assert store.get_job("j", None).lease_id == first
        clock.advance(61)
        second = token(store.claim("j", 60))
        assert second != first and store.get_job("j", None).lease_id == second

    def test_a_stale_claim_changes_nothing(
        self, store: JobStore, clock: FakeClock, acme: Tenant
    ) -> None:
        store.create_job(make_job(acme, "j"))
        stale = token(store.claim("j", 60))
        clock.advance(61)
        current = token(store.claim("j", 60))
        before = store.get_job("j", None)
        assert not store.heartbeat("j", stale, 0.9, 60)
        assert store.finish_success("j", stale, **SUCCESS) is None  # type: ignore[arg-type]
        assert store.finish_failure("j", "engine_error", "late", lease_id=stale) is None
        assert not store.release("j", stale)
        clock.advance(61)  # the current claim's lease ran out too: still not the stale one's
        assert not store.requeue_expired("j", stale)
        assert store.get_job("j", None) == before
        assert store.heartbeat("j", current, 0.5, 60)
        done = store.finish_success("j", current, **SUCCESS)  # type: ignore[arg-type]
        assert done is not None and done.status is JobStatus.SUCCEEDED
        assert store.finish_failure("j", "engine_error", "late", lease_id=stale) is None
        assert not store.heartbeat("j", current, 0.9, 60)  # finished: no claim holds it
        assert store.get_job("j", None) == done

    def test_an_expired_claim_is_handed_back_and_fenced(
        self, store: JobStore, clock: FakeClock, acme: Tenant
    ) -> None:
        store.create_job(make_job(acme, "j"))
        stale = token(store.claim("j", 60))
        clock.advance(61)
        assert [job.id for job in store.expired_leases()] == ["j"]
        assert store.requeue_expired("j", stale)
        job = store.get_job("j", None)
        assert (job.status, job.lease_id, job.attempts) == (JobStatus.QUEUED, None, 1)
        assert store.expired_leases() == [] and store.queued_ids() == ["j"]
        assert not store.requeue_expired("j", stale)
        assert not store.heartbeat("j", stale, 0.5, 60)
        assert store.finish_success("j", stale, **SUCCESS) is None  # type: ignore[arg-type]
        again = store.claim("j", 60)
        assert again is not None and again.attempts == 2  # the lost run counts as a crash

    def test_a_dead_holders_jobs_expire_at_once_counted_only_if_it_crashed(
        self, store: JobStore, clock: FakeClock, acme: Tenant
    ) -> None:
        claims = _three_held_by_host1_one_by_host2(store, acme)
        assert store.get_job("a", None).holder == "host:1"
        assert store.finish_success("c", claims["c"], **SUCCESS) is not None  # type: ignore[arg-type]
        assert store.get_job("c", None).holder is None
        assert store.expire_claims("host:1", counted=False) == ["a", "b"]
        assert [job.id for job in store.expired_leases()] == ["a", "b"]  # no waiting
        assert [store.get_job(j, None).attempts for j in ("a", "b", "d")] == [0, 0, 1]
        assert store.requeue_expired("a", claims["a"])
        assert store.get_job("a", None).holder is None
        again = store.claim("a", 60, "host:3")
        assert again is not None and again.attempts == 1  # stopped from outside: not counted
        assert store.expire_claims("host:1", counted=False) == []  # once: "b" has expired
        assert store.get_job("b", None).attempts == 0
        assert store.expire_claims("host:3", counted=True) == ["a"]
        assert store.get_job("a", None).attempts == 1  # crashed: counted
        crashed = store.claim("a", 60, "host:4")
        assert crashed is not None and crashed.attempts == 2
        assert store.expire_claims("host:9", counted=False) == []

    def test_a_holder_told_to_stop_takes_back_its_attempts_and_keeps_its_leases(
        self, store: JobStore, clock: FakeClock, acme: Tenant
    ) -> None:
        claims = _three_held_by_host1_one_by_host2(store, acme)
        clock.advance(61)
        assert [job.id for job in store.expired_leases()] == ["a", "b", "c", "d"]
        assert store.heartbeat("a", claims["a"], 0.5, 60)
        assert store.heartbeat("b", claims["b"], 0.5, 60)  # "c": the sweeper has it (counted)
        assert store.take_back_attempts("host:1") == ["a", "b"]
        assert [store.get_job(j, None).attempts for j in ("a", "b", "c", "d")] == [0, 0, 1, 1]
        assert [job.id for job in store.expired_leases()] == ["c", "d"]  # the leases stay
        assert store.heartbeat("a", claims["a"], 0.9, 60)  # still its claim: it may finish
        done = store.finish_success("a", claims["a"], **SUCCESS)  # type: ignore[arg-type]
        assert done is not None and done.status is JobStatus.SUCCEEDED
        clock.advance(61)  # "b" was cut off: its lease runs out
        assert store.requeue_expired("b", claims["b"])
        again = store.claim("b", 60, "host:3")
        assert again is not None and again.attempts == 1  # the stopped run is not counted
        assert store.take_back_attempts("host:1") == []  # it holds nothing any more
        assert store.take_back_attempts("host:9") == []

    def test_a_renewed_lease_is_not_handed_back(
        self, store: JobStore, clock: FakeClock, acme: Tenant
    ) -> None:
        store.create_job(make_job(acme, "j"))
        lease_id = token(store.claim("j", 60))
        clock.advance(59)
        assert not store.requeue_expired("j", lease_id)
        assert store.heartbeat("j", lease_id, 0.1, 60)
        clock.advance(59)
        assert store.expired_leases() == [] and not store.requeue_expired("j", lease_id)
        clock.advance(2)
        assert store.requeue_expired("j", lease_id)

    def test_racing_claims_finish_once(
        self, store: JobStore, clock: FakeClock, acme: Tenant
    ) -> None:
        store.create_job(make_job(acme, "j"))
        stale = token(store.claim("j", 60))
        clock.advance(61)
        current = token(store.claim("j", 60))
        tokens = iter([stale, current])
        finish = partial(store.finish_success, "j", **SUCCESS)  # type: ignore[arg-type]
        results = race(lambda: finish(next(tokens)))
        assert sorted(result is None for result in results) == [False, True]
        assert store.get_job("j", None).status is JobStatus.SUCCEEDED

    def test_sweep_turns(self, store: JobStore, clock: FakeClock) -> None:
        assert store.sweep_holder("main") is None
        assert store.take_sweep_turn("main", 10, "a")
        assert not store.take_sweep_turn("main", 10, "b")
        assert store.take_sweep_turn("other", 10, "b")  # another sweep, other turns
        clock.advance(9)
        assert not store.take_sweep_turn("main", 10, "b")
        clock.advance(1)
        assert store.take_sweep_turn("main", 10, "b") and store.sweep_holder("main") == "b"

    def test_one_sweeper_per_turn(self, store: JobStore, clock: FakeClock) -> None:
        for _ in range(3):
            results = race(partial(store.take_sweep_turn, "main", 10, "w"), parties=4)
            assert sorted(results) == [False, False, False, True]
            clock.advance(10)
