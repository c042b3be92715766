"""Callback delivery against real receivers on loopback."""

from __future__ import annotations

import json
import time

import pytest
from http_servers import Handler, Received, Respond, serving, stall, trickle

from dsac_asr.callbacks.delivery import Outcome, deliver_once
from dsac_asr.callbacks.webhooks import new_secret, verify, webhook_headers
from dsac_asr.egress import EgressPolicy

pytestmark = pytest.mark.integration

LOOPBACK = EgressPolicy.parse("127.0.0.1")
BODY = json.dumps({"type": "job.succeeded", "job": {"id": "j1"}}).encode()


def _answer(status: int, headers: dict[str, str] | None = None) -> Respond:
    def respond(handler: Handler, received: Received) -> None:
        handler.reply(status, b"", headers)

    return respond


def _signed(secret: str) -> dict[str, str]:
    headers = webhook_headers(secret, "msg_evt1", BODY, now_s=int(time.time()))
    return {**headers, "Content-Type": "application/json"}


def test_delivered_and_verified_by_the_receiver() -> None:
    secret, verdicts = new_secret(), []

    def receiver(handler: Handler, received: Received) -> None:
        verdicts.append(verify(secret, received.headers, received.body))
        handler.reply(204 if verdicts[-1] else 401)

    with serving(receiver) as server:
        result = deliver_once(server.url("/hook"), BODY, _signed(secret), LOOPBACK, 2.0)
    assert (result.outcome, result.status_code, result.error) == (Outcome.DELIVERED, 204, None)
    assert verdicts == [True]
    assert server.received[0].method == "POST" and server.received[0].body == BODY
    assert result.at.tzinfo is not None


def test_same_event_keeps_its_webhook_id_across_attempts() -> None:
    secret = new_secret()
    with serving(_answer(500)) as server:
        for _ in range(2):
            deliver_once(server.url(), BODY, _signed(secret), LOOPBACK, 2.0)
    assert [r.headers["webhook-id"] for r in server.received] == ["msg_evt1", "msg_evt1"]


def test_redirect_is_not_followed_and_retried() -> None:
    with serving(_answer(200)) as elsewhere:
        moved = _answer(307, {"Location": elsewhere.url("/other")})
        with serving(moved) as server:
            result = deliver_once(server.url(), BODY, {}, LOOPBACK, 2.0)
    assert (result.outcome, result.status_code) == (Outcome.RETRY, 307)
    assert "redirect" in (result.error or "")
    assert elsewhere.connections == 0


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, Outcome.DELIVERED),
        (202, Outcome.DELIVERED),
        (410, Outcome.GONE),
        (500, Outcome.RETRY),
        (503, Outcome.RETRY),
        (404, Outcome.RETRY),
        (429, Outcome.RETRY),
    ],
)
def test_status_decides_the_outcome(status: int, outcome: Outcome) -> None:
    with serving(_answer(status)) as server:
        result = deliver_once(server.url(), BODY, {}, LOOPBACK, 2.0)
    assert (result.outcome, result.status_code) == (outcome, status)


@pytest.mark.parametrize("respond", [stall, lambda handler, received: trickle(handler, 0.05)])
def test_slow_receiver_is_cut_at_the_timeout(respond: Respond) -> None:
    with serving(respond) as server:
        started = time.monotonic()
        result = deliver_once(server.url(), BODY, {}, LOOPBACK, 0.5)
        elapsed_s = time.monotonic() - started
    assert result.outcome is Outcome.RETRY and result.status_code is None
    assert "timed out" in (result.error or "")
    assert elapsed_s < 0.5 + 0.5


def test_refused_address_is_gone_without_contact() -> None:
    with serving(_answer(200)) as server:
        result = deliver_once(server.url(), BODY, {}, EgressPolicy(), 2.0)
    assert result.outcome is Outcome.GONE
    assert (result.error or "").startswith("egress_refused")
    assert server.connections == 0


def test_closed_port_is_retried() -> None:
    with serving(_answer(200)) as server:
        url = server.url()
    result = deliver_once(url, BODY, {}, LOOPBACK, 2.0)
    assert result.outcome is Outcome.RETRY and result.status_code is None
