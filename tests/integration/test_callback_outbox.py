"""The callback outbox delivered by ``deliver_due``/``deliver_event`` against real
receivers on loopback, with a real SQLite store and local object store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from http_servers import Handler, Received, serving

from dsac_asr.callbacks.schedule import RetrySchedule
from dsac_asr.callbacks.sealing import SecretBox
from dsac_asr.callbacks.webhooks import verify
from dsac_asr.egress import EgressPolicy
from dsac_asr.jobs.callback_outbox import event_id
from dsac_asr.jobs.callback_sender import CallbackSettings, deliver_due, deliver_event
from dsac_asr.jobs.migrations import migrate
from dsac_asr.jobs.model import Job, JobOptions, JobSource, JobStatus, SourceKind, Tenant
from dsac_asr.jobs.store import JobStore
from dsac_asr.storage import LocalObjectStore

pytestmark = pytest.mark.integration

RESULT = b'{"results": [{"alternatives": [{"transcript": "hi", "confidence": 1, "words": []}]}]}'


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> Iterator[JobStore]:
    url = f"sqlite:///{tmp_path / 'dsac.sqlite3'}"
    migrate(url)
    store = JobStore.open(url, clock=clock)
    yield store
    store.close()


@pytest.fixture
def objects(tmp_path: Path) -> LocalObjectStore:
    return LocalObjectStore(tmp_path / "objects")


@pytest.fixture
def acme(store: JobStore) -> Tenant:
    return store.create_tenant("acme", ["calls"])


BOX = SecretBox("test server key")
EVENT = event_id("j1", "succeeded")


def _settings(**changes: object) -> CallbackSettings:
    base = CallbackSettings(
        policy=EgressPolicy.parse("127.0.0.1"),
        box=BOX,
        timeout_s=2.0,
        schedule=RetrySchedule((5.0, 300.0)),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def _finished_job(
    store: JobStore, objects: LocalObjectStore, tenant: Tenant, url: str, **options: object
) -> Job:
    job = Job(
        id="j1",
        tenant_id=tenant.id,
        status=JobStatus.QUEUED,
        source=JobSource(SourceKind.OBJECT, "calls", "in/a.wav"),
        options=JobOptions(callback_url=url, **options),  # type: ignore[arg-type]
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    store.create_job(job)
    claimed = store.claim(job.id, 60)
    assert claimed is not None and claimed.lease_id is not None
    objects.put_bytes("calls", "decoded/j1.json", RESULT, "application/json")
    done = store.finish_success(
        job.id, claimed.lease_id, result_key="decoded/j1.json", duration_s=1.0,
        processing_s=0.1, model_id="m", transcript_metadata={},
    )  # fmt: skip
    assert done is not None
    return done


def _answers(*statuses: int, body: bytes = b"") -> object:
    queue = list(statuses)

    def respond(handler: Handler, _received: Received) -> None:
        handler.reply(queue.pop(0) if queue else 204, body)

    return respond


def test_retries_follow_the_schedule_with_one_webhook_id(
    store: JobStore, objects: LocalObjectStore, acme: Tenant, clock: Clock
) -> None:
    with serving(_answers(503, 503, 503)) as hook:  # type: ignore[arg-type]
        _finished_job(store, objects, acme, hook.url("/cb"))
        assert deliver_due(store, objects, _settings()) == [EVENT]
        assert deliver_due(store, objects, _settings()) == []  # next one not due yet
        clock.now += timedelta(seconds=4)
        assert deliver_due(store, objects, _settings()) == []
        clock.now += timedelta(seconds=2)  # 6 s: past 5 s +- 10%
        assert deliver_due(store, objects, _settings()) == [EVENT]
        clock.now += timedelta(seconds=331)
        assert deliver_due(store, objects, _settings()) == [EVENT]
        clock.now += timedelta(days=2)
        assert deliver_due(store, objects, _settings()) == []  # the schedule is over
    ids = {r.headers["webhook-id"] for r in hook.received}
    assert ids == {event_id("j1", "succeeded")} and len(hook.received) == 3
    secret = store.get_tenant(acme.id).webhook_secret
    assert verify(secret, hook.received[-1].headers, hook.received[-1].body, now_s=None)
    attempts = store.callback_attempts("j1")
    assert [(a.attempt, a.status_code, a.outcome) for a in attempts] == [
        (1, 503, "retry"), (2, 503, "retry"), (3, 503, "retry"),
    ]  # fmt: skip
    event = store.callback_event("j1")
    assert event is not None and event.state == "exhausted"


def test_a_delivered_event_is_not_sent_again(
    store: JobStore, objects: LocalObjectStore, acme: Tenant, clock: Clock
) -> None:
    with serving(_answers(204)) as hook:  # type: ignore[arg-type]
        job = _finished_job(store, objects, acme, hook.url("/cb"))
        sent = deliver_event(event_id(job.id, "succeeded"), store, objects, _settings())
        assert sent is not None and sent.next_at is None and sent.attempt.outcome == "delivered"
        clock.now += timedelta(days=1)
        assert deliver_due(store, objects, _settings()) == []
        assert deliver_event(event_id(job.id, "succeeded"), store, objects, _settings()) is None
    assert len(hook.received) == 1
    assert json.loads(hook.received[0].body)["data"]["transcript"]["results"]


def test_a_missing_result_object_is_a_recorded_failure(
    store: JobStore, objects: LocalObjectStore, acme: Tenant
) -> None:
    with serving(_answers(204)) as hook:  # type: ignore[arg-type]
        _finished_job(store, objects, acme, hook.url("/cb"))
        objects.delete("calls", "decoded/j1.json")
        assert deliver_due(store, objects, _settings()) == [EVENT]
    assert hook.received == []
    (attempt,) = store.callback_attempts("j1")
    assert attempt.outcome == "failed" and attempt.error is not None
    assert "decoded/j1.json is missing" in attempt.error
    event = store.callback_event("j1")
    assert event is not None and event.state == "failed"


def test_a_front_end_refusal_is_rejected_with_its_message_and_retried(
    store: JobStore, objects: LocalObjectStore, acme: Tenant, clock: Clock
) -> None:
    refusal = json.dumps({"result": "Error", "message": "Invalid API key"}).encode()
    sealed = BOX.seal("front-end-key")
    with serving(_answers(200, 200, body=refusal)) as hook:  # type: ignore[arg-type]
        _finished_job(
            store, objects, acme, hook.url("/cb"),
            callback_style="seed", callback_api_key=sealed, user_id="u1",
        )  # fmt: skip
        settings = _settings(key_over_http=True)
        assert deliver_due(store, objects, settings) == [EVENT]
        clock.now += timedelta(seconds=6)
        assert deliver_due(store, objects, settings) == [EVENT]  # 200 with a JSON refusal again
    assert [r.headers["X-API-KEY"] for r in hook.received] == ["front-end-key"] * 2
    attempts = store.callback_attempts("j1")
    assert [(a.status_code, a.outcome) for a in attempts] == [(200, "rejected")] * 2
    assert attempts[0].error == "rejected: Invalid API key"
    assert store.get_job("j1", None).options.callback_api_key == sealed  # one attempt left


def test_the_key_is_not_sent_over_plain_http_and_is_erased_at_the_end(
    store: JobStore, objects: LocalObjectStore, acme: Tenant
) -> None:
    with serving(_answers(204)) as hook:  # type: ignore[arg-type]
        _finished_job(
            store, objects, acme, hook.url("/cb"),
            callback_style="seed", callback_api_key=BOX.seal("front-end-key"),
        )  # fmt: skip
        assert deliver_due(store, objects, _settings()) == [EVENT]
    assert hook.received == []
    (attempt,) = store.callback_attempts("j1")
    assert attempt.outcome == "failed" and "plain http://" in (attempt.error or "")
    assert store.get_job("j1", None).options.callback_api_key is None


def test_a_delivered_seed_callback_erases_its_key(
    store: JobStore, objects: LocalObjectStore, acme: Tenant
) -> None:
    with serving(_answers(200, body=b'{"result": "Success"}')) as hook:  # type: ignore[arg-type]
        _finished_job(
            store, objects, acme, hook.url("/cb"),
            callback_style="seed", callback_api_key=BOX.seal("front-end-key"),
        )  # fmt: skip
        assert deliver_due(store, objects, _settings(key_over_http=True)) == [EVENT]
    assert hook.received[0].headers["STATUS"] == "SUCCESS"
    assert [a.outcome for a in store.callback_attempts("j1")] == ["delivered"]
    assert store.get_job("j1", None).options.callback_api_key is None


def test_a_receiver_that_is_down_is_retried(
    store: JobStore, objects: LocalObjectStore, acme: Tenant, clock: Clock
) -> None:
    with serving(_answers(204)) as hook:  # type: ignore[arg-type]
        url = hook.url("/cb")
    _finished_job(store, objects, acme, url)  # the receiver is gone: connection refused
    assert deliver_due(store, objects, _settings()) == [EVENT]
    (attempt,) = store.callback_attempts("j1")
    assert attempt.outcome == "retry" and attempt.status_code is None and attempt.error
    event = store.callback_event("j1")
    assert event is not None and event.state == "pending"
    assert event.next_at > clock.now
