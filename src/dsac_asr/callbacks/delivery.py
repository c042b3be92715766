"""One delivery attempt: POST, and what the answer means for the event.

The outbox (``jobs.callback_outbox``) decides when attempts happen and records
each ``AttemptResult``; ``callbacks.schedule`` says how long to wait between them.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from dsac_asr.egress import (
    EgressPolicy,
    EgressRefusedError,
    SafeResponse,
    Timeouts,
    open_stream,
)
from dsac_asr.errors import DsacError

_REPLY_BYTES = 64 * 1024
_GONE_STATUS = 410


class Outcome(StrEnum):
    """What an attempt means for the event: ``failed`` is a local failure that
    retrying cannot mend (the result object is gone, the key cannot be sent)."""

    DELIVERED = "delivered"
    RETRY = "retry"
    REJECTED = "rejected"
    GONE = "gone"
    FAILED = "failed"

    @property
    def is_final(self) -> bool:
        """True when no further attempt follows, whatever the schedule says."""
        return self in (Outcome.DELIVERED, Outcome.GONE, Outcome.FAILED)


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

    2xx: delivered, unless the body is the seed front end's refusal
    ``{"result": "Error", "message": ...}`` (rejected: tried again, with the
    message recorded); 410 or an egress refusal: gone (it will never succeed);
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
            if 200 <= response.status_code < 300:
                return _classify_success(at, response.status_code, _reply(response))
            return _classify(at, response.status_code)
    except EgressRefusedError as exc:
        return AttemptResult(at, None, f"{exc.code}: {exc.message}", Outcome.GONE)
    except DsacError as exc:
        return AttemptResult(at, None, f"{exc.code}: {exc.message}", Outcome.RETRY)


def _reply(response: SafeResponse) -> bytes:
    """The first ``_REPLY_BYTES`` of the answer (the rest is not read)."""
    received = b""
    try:
        for chunk in response.iter_bytes():
            received += chunk
    except DsacError:
        pass  # over the cap or cut short: what arrived is enough to classify
    return received[:_REPLY_BYTES]


def rejection(reply: bytes) -> str | None:
    """The message of a front end's ``{"result": "Error", "message": ...}`` answer, else None."""
    try:
        data = json.loads(reply)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or str(data.get("result", "")).lower() != "error":
        return None
    message = data.get("message")
    return str(message)[:500] if message else "the receiver answered result: Error"


def _classify_success(at: datetime, status_code: int, reply: bytes) -> AttemptResult:
    message = rejection(reply)
    if message is not None:
        return AttemptResult(at, status_code, f"rejected: {message}", Outcome.REJECTED)
    return AttemptResult(at, status_code, None, Outcome.DELIVERED)


def _classify(at: datetime, status_code: int) -> AttemptResult:
    if status_code == _GONE_STATUS:
        return AttemptResult(at, status_code, "the receiver answered 410 Gone", Outcome.GONE)
    if 300 <= status_code < 400:
        return AttemptResult(at, status_code, "redirects are not followed", Outcome.RETRY)
    return AttemptResult(at, status_code, None, Outcome.RETRY)
