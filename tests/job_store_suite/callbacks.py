"""The callback outbox and attempt log: events claimed once, attempts recorded in order."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from dsac_asr.jobs.callback_outbox import OutboxEvent
from dsac_asr.jobs.model import CallbackAttempt, Job, Tenant
from dsac_asr.jobs.store import JobStore

from .helpers import FakeClock, Tenants, make_job, race, token


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


def _with_callback(tenant: Tenant, job_id: str, **options: object) -> Job:
    job = make_job(tenant, job_id)
    return replace(job, options=replace(job.options, callback_url="https://h/cb", **options))  # type: ignore[arg-type]


def _attempt(event: OutboxEvent, at: datetime, outcome: str) -> CallbackAttempt:
    return CallbackAttempt(event.id, event.attempts, at, None, None, outcome)


class OutboxBehaviour(Tenants):
    """The callback outbox: events written with the final state, claimed once, settled."""

    def test_a_finished_job_with_a_callback_has_a_due_event(
        self, store: JobStore, clock: FakeClock, acme: Tenant
    ) -> None:
        store.create_job(_with_callback(acme, "j"))
        store.create_job(make_job(acme, "quiet"))  # no callback_url: no event
        claims = {job_id: token(store.claim(job_id, 60)) for job_id in ("j", "quiet")}
        assert store.due_events(clock.now) == []
        store.finish_failure("j", "not_media", "not audio", lease_id=claims["j"])
        store.finish_failure("quiet", "not_media", "not audio", lease_id=claims["quiet"])
        (event,) = store.due_events(clock.now)
        assert (event.id, event.job_id, event.state, event.attempts) == (
            "msg_j_failed", "j", "pending", 0,
        )  # fmt: skip
        assert store.callback_event("quiet") is None

    def test_a_cancelled_job_has_no_event_and_forgets_its_secret(
        self, store: JobStore, acme: Tenant
    ) -> None:
        store.create_job(_with_callback(acme, "j", callback_api_key="fernet:sealed"))
        store.cancel("j", acme.id)
        assert store.callback_event("j") is None
        assert store.get_job("j", None).options.callback_api_key is None

    def test_an_event_is_claimed_once(
        self, store: JobStore, clock: FakeClock, acme: Tenant
    ) -> None:
        store.create_job(_with_callback(acme, "j"))
        store.finish_failure("j", "x", "y", lease_id=token(store.claim("j", 60)))
        claims = race(lambda: store.claim_event("msg_j_failed", clock.now, 30), parties=4)
        held = [claim for claim in claims if claim is not None]
        assert len(held) == 1 and held[0].attempts == 1
        assert store.due_events(clock.now) == []  # held: not due for anyone else
        clock.advance(31)  # the holder died: its claim lapses, the next attempt is number 2
        again = store.claim_event("msg_j_failed", clock.now, 30)
        assert again is not None and again.attempts == 2
        # the first holder's late report is recorded, but does not move the event
        assert not store.complete_attempt(held[0], _attempt(held[0], clock.now, "retry"), None)
        assert store.callback_event("j") == again

    def test_a_retry_is_due_later_and_the_last_attempt_settles_the_event(
        self, store: JobStore, clock: FakeClock, acme: Tenant
    ) -> None:
        store.create_job(_with_callback(acme, "j", callback_api_key="fernet:sealed"))
        store.finish_failure("j", "x", "y", lease_id=token(store.claim("j", 60)))
        first = store.claim_event("msg_j_failed", clock.now, 30)
        assert first is not None
        later = clock.now + timedelta(seconds=300)
        assert store.complete_attempt(first, _attempt(first, clock.now, "retry"), later)
        clock.advance(299)
        assert store.claim_event("msg_j_failed", clock.now, 30) is None  # not due yet
        assert store.get_job("j", None).options.callback_api_key == "fernet:sealed"
        clock.advance(1)
        second = store.claim_event("msg_j_failed", clock.now, 30)
        assert second is not None and second.attempts == 2
        assert store.complete_attempt(second, _attempt(second, clock.now, "delivered"), None)
        event = store.callback_event("j")
        assert event is not None and event.state == "delivered"
        assert store.due_events(clock.now + timedelta(days=3)) == []
        assert [a.outcome for a in store.callback_attempts("j")] == ["retry", "delivered"]
        assert store.get_job("j", None).options.callback_api_key is None  # erased at the end

    def test_an_exhausted_event_says_so(
        self, store: JobStore, clock: FakeClock, acme: Tenant
    ) -> None:
        store.create_job(_with_callback(acme, "j"))
        store.finish_failure("j", "x", "y", lease_id=token(store.claim("j", 60)))
        event = store.claim_event("msg_j_failed", clock.now, 30)
        assert event is not None
        store.complete_attempt(event, _attempt(event, clock.now, "rejected"), None)
        settled = store.callback_event("j")
        assert settled is not None and settled.state == "exhausted"

    def test_events_go_with_their_job(
        self, store: JobStore, clock: FakeClock, acme: Tenant
    ) -> None:
        store.create_job(_with_callback(acme, "j"))
        store.finish_failure("j", "x", "y", lease_id=token(store.claim("j", 60)))
        store.delete_job("j", acme.id)
        assert store.due_events(clock.now) == []
