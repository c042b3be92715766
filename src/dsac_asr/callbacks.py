"""Delivering callbacks: one attempt at a time, and the retry schedule between attempts.

Queueing and persistence belong to the caller (the job service): it records
each ``AttemptResult``, asks ``should_retry``, and schedules the next attempt
``next_delay_s`` later, reusing the event's ``webhook-id``.
"""

from __future__ import annotations

import random
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from dsac_asr.egress import EgressPolicy, EgressRefusedError, Timeouts, open_stream
from dsac_asr.errors import DsacError

MAX_DELAY_S = 3600.0
_REPLY_BYTES = 64 * 1024
_GONE_STATUS = 410


class Outcome(StrEnum):
    """What an attempt means for the event."""

    DELIVERED = "delivered"
    RETRY = "retry"
    GONE = "gone"


@dataclass(frozen=True)
class AttemptResult:
    """One delivery attempt as recorded: when, and the status code or the error."""

    at: datetime
    status_code: int | None
    error: str | None
    outcome: Outcome


def deliver_once(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    policy: EgressPolicy,
    timeout_s: float,
    *,
    ssl_context: ssl.SSLContext | None = None,
) -> AttemptResult:
    """POST ``body`` to ``url`` once; never follows redirects; returns within ``timeout_s``.

    2xx: delivered; 410 or an egress refusal: gone (it will never succeed);
    anything else (3xx included, timeouts, connection errors): retry.
    """
    at = datetime.now(UTC)
    timeouts = Timeouts(connect_s=timeout_s, read_s=timeout_s, total_s=timeout_s)
    try:
        with open_stream(
            "POST",
            url,
            policy,
            timeouts=timeouts,
            max_bytes=_REPLY_BYTES,
            headers=headers,
            content=body,
            follow_redirects=0,
            ssl_context=ssl_context,
        ) as response:
            return _classify(at, response.status_code)
    except EgressRefusedError as exc:
        return AttemptResult(at, None, f"{exc.code}: {exc.message}", Outcome.GONE)
    except DsacError as exc:
        return AttemptResult(at, None, f"{exc.code}: {exc.message}", Outcome.RETRY)


def _classify(at: datetime, status_code: int) -> AttemptResult:
    if 200 <= status_code < 300:
        return AttemptResult(at, status_code, None, Outcome.DELIVERED)
    if status_code == _GONE_STATUS:
        return AttemptResult(at, status_code, "the receiver answered 410 Gone", Outcome.GONE)
    if 300 <= status_code < 400:
        return AttemptResult(at, status_code, "redirects are not followed", Outcome.RETRY)
    return AttemptResult(at, status_code, None, Outcome.RETRY)


def next_delay_s(
    attempt_number: int,
    first_delay_s: float,
    rng: random.Random,
    max_delay_s: float = MAX_DELAY_S,
) -> float:
    """Seconds to wait after failed attempt ``attempt_number`` (1-based) before the next.

    Exponential (``first_delay_s`` doubling per attempt, capped at
    ``max_delay_s``) with equal jitter: half the step is kept, the other half
    drawn at random, so receivers are not hit in lockstep yet get a breather.
    """
    step_s = min(max_delay_s, first_delay_s * 2.0 ** min(max(attempt_number - 1, 0), 62))
    return step_s / 2 + rng.uniform(0, step_s / 2)


def should_retry(result: AttemptResult, attempt_number: int, max_attempts: int) -> bool:
    """True when the attempt failed in a retryable way and the budget allows another."""
    return result.outcome is Outcome.RETRY and attempt_number < max_attempts
