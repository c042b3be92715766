"""Delivering the outbox: claim an event, make one attempt, record it, set the next.

``deliver_event`` is what a queue task runs right after a job ends (for
latency); ``deliver_due`` is what the sweeper runs every few seconds (the
safety net: whatever is pending and due, whoever wrote it, even after every
process was killed). Both go through the same claim, so an attempt is made once.
"""

from __future__ import annotations

import logging
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dsac_asr.callbacks.delivery import AttemptResult, Outcome, deliver_once
from dsac_asr.callbacks.schedule import RetrySchedule
from dsac_asr.callbacks.sealing import SecretBox, secret_box
from dsac_asr.config import Settings
from dsac_asr.egress import EgressPolicy
from dsac_asr.errors import DsacError, KeyRefusedError, NotFoundError, TransientError
from dsac_asr.jobs.callback_messages import build_request
from dsac_asr.jobs.callback_outbox import OutboxEvent
from dsac_asr.jobs.model import CallbackAttempt, Job, JobStatus
from dsac_asr.jobs.store import JobStore
from dsac_asr.storage.base import ObjectStore

log = logging.getLogger(__name__)
SWEEP_LIMIT = 32
"""Events one sweep takes at most; the rest wait for the next sweep."""
SENDERS = 8
"""Attempts one sweep makes at once (a receiver that hangs costs ``timeout_s`` each)."""


@dataclass(frozen=True)
class CallbackSettings:
    """How callbacks are delivered."""

    policy: EgressPolicy
    box: SecretBox
    timeout_s: float = 10.0
    schedule: RetrySchedule = field(default_factory=RetrySchedule)
    key_over_http: bool = False

    @property
    def claim_s(self) -> float:
        """How long a sender holds an event: well past one attempt's time limit."""
        return 3 * self.timeout_s + 30.0

    @classmethod
    def from_settings(cls, settings: Settings) -> CallbackSettings:
        """The delivery settings ``settings`` describe."""
        return cls(
            policy=settings.egress_policy,
            box=secret_box(settings.secret_key, settings.data_dir),
            timeout_s=settings.callback_timeout_s,
            schedule=RetrySchedule.parse(settings.callback_retry_s),
            key_over_http=settings.callback_key_over_http,
        )


def deliver_due(
    store: JobStore, objects: ObjectStore, settings: CallbackSettings, now: datetime | None = None
) -> list[str]:
    """Make the due attempt of every pending event nobody holds; the ids of the events
    tried (a sweeper step)."""
    events = store.due_events(now or store.clock(), SWEEP_LIMIT)
    if not events:
        return []
    with ThreadPoolExecutor(min(SENDERS, len(events)), "callback") as pool:
        made = pool.map(lambda e: _deliver_logged(e.id, store, objects, settings, now), events)
        return [event.id for event, tried in zip(events, made, strict=True) if tried]


def _deliver_logged(
    event_id: str,
    store: JobStore,
    objects: ObjectStore,
    settings: CallbackSettings,
    now: datetime | None,
) -> bool:
    try:
        return deliver_event(event_id, store, objects, settings, now) is not None
    except DsacError as exc:  # the store went away mid-attempt: the claim lapses, retried later
        log.warning("callback %s: %s", event_id, exc.message)
        return False


@dataclass(frozen=True)
class Sent:
    """An attempt made: what came of it, and when the next is due (None: the event is done)."""

    attempt: CallbackAttempt
    next_at: datetime | None


def deliver_event(
    event_id: str,
    store: JobStore,
    objects: ObjectStore,
    settings: CallbackSettings,
    now: datetime | None = None,
) -> Sent | None:
    """Claim the event and make its due attempt; None when no attempt was made (the
    event is done, not due, or held by another sender)."""
    event = store.claim_event(event_id, now or store.clock(), settings.claim_s)
    if event is None:
        return None
    result = _attempt(event, store, objects, settings)
    delay_s = None if result.outcome.is_final else _delay_s(event.attempts, settings)
    next_at = None if delay_s is None else store.clock() + timedelta(seconds=delay_s)
    attempt = CallbackAttempt(
        event.id, event.attempts, result.at, result.status_code, result.error, result.outcome.value
    )
    store.complete_attempt(event, attempt, next_at)
    log.info("callback %s attempt %d: %s", event.id, event.attempts, result.outcome.value)
    return Sent(attempt, next_at)


def _delay_s(attempt: int, settings: CallbackSettings) -> float | None:
    return settings.schedule.delay_after_s(attempt, random.SystemRandom())


def _attempt(
    event: OutboxEvent, store: JobStore, objects: ObjectStore, settings: CallbackSettings
) -> AttemptResult:
    """One attempt; what stops it before sending is recorded, never dropped."""
    started = store.clock()
    try:
        job = store.get_job(event.job_id, None)
        url, result = job.options.callback_url or "", _result_json(job, objects)
        api_key = _api_key(job, url, settings)
        secret = store.get_tenant(job.tenant_id).webhook_secret
    except TransientError as exc:
        return AttemptResult(started, None, f"{exc.code}: {exc.message}", Outcome.RETRY)
    except DsacError as exc:
        return AttemptResult(started, None, f"{exc.code}: {exc.message}", Outcome.FAILED)
    body, headers = build_request(job, event.id, result, secret, api_key, int(time.time()))
    return deliver_once(url, body, headers, settings.policy, settings.timeout_s)


def _result_json(job: Job, objects: ObjectStore) -> bytes | None:
    if job.status is not JobStatus.SUCCEEDED or job.result_key is None:
        return None
    try:
        return objects.get_bytes(job.result_bucket, job.result_key)
    except NotFoundError as exc:
        message = f"the result object {job.result_key} is missing from {job.result_bucket}"
        raise NotFoundError(message) from exc


def _api_key(job: Job, url: str, settings: CallbackSettings) -> str | None:
    sealed = job.options.callback_api_key
    if not sealed:
        return None
    if url.lower().startswith("http://") and not settings.key_over_http:
        raise KeyRefusedError(
            "refused to send the callback's X-API-KEY to a plain http:// URL "
            "(DSAC_CALLBACK_KEY_OVER_HTTP allows it)"
        )
    return settings.box.open(sealed)
