"""The callback attempt log: recorded once per attempt, read back in order."""

from __future__ import annotations

from dsac_asr.jobs.model import CallbackAttempt, Tenant
from dsac_asr.jobs.store import JobStore

from .helpers import FakeClock, Tenants, make_job


class CallbackLogBehaviour(Tenants):
    """Recording callback attempts."""

    def test_attempts_are_recorded_in_order(
        self, store: JobStore, clock: FakeClock, acme: Tenant
    ) -> None:
        store.create_job(make_job(acme, "j"))
        first = CallbackAttempt("j.succeeded", 1, clock.now, 500, None, "retry")
        second = CallbackAttempt("j.succeeded", 2, clock.now, 204, None, "delivered")
        assert store.record_attempt("j", first)
        assert not store.event_delivered("j.succeeded")
        assert store.record_attempt("j", second)
        assert store.callback_attempts("j") == [first, second]
        assert store.event_delivered("j.succeeded")
        assert not store.event_delivered("j.failed")

    def test_the_same_attempt_is_recorded_only_once(
        self, store: JobStore, clock: FakeClock, acme: Tenant
    ) -> None:
        store.create_job(make_job(acme, "j"))
        attempt = CallbackAttempt("j.succeeded", 1, clock.now, None, "timed out", "retry")
        assert store.record_attempt("j", attempt)
        assert not store.record_attempt("j", attempt)
        assert len(store.callback_attempts("j")) == 1

    def test_attempts_go_with_their_job(
        self, store: JobStore, clock: FakeClock, acme: Tenant
    ) -> None:
        store.create_job(make_job(acme, "j"))
        store.record_attempt("j", CallbackAttempt("j.failed", 1, clock.now, 410, None, "gone"))
        store.delete_job("j", acme.id)
        assert store.callback_attempts("j") == []
