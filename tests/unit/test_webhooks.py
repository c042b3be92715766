"""Standard Webhooks signing and verification."""

from __future__ import annotations

import base64

import pytest

from dsac_asr.callbacks.webhooks import new_message_id, new_secret, sign, verify, webhook_headers
from dsac_asr.errors import InvalidOptionError

# The example published with the Standard Webhooks specification.
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP_S = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_spec_vector() -> None:
    assert sign(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP_S, SPEC_BODY) == SPEC_SIGNATURE


def test_spec_vector_verifies() -> None:
    headers = {
        "Webhook-Id": SPEC_ID,
        "Webhook-Timestamp": str(SPEC_TIMESTAMP_S),
        "Webhook-Signature": SPEC_SIGNATURE,
    }
    assert verify(SPEC_SECRET, headers, SPEC_BODY, now_s=SPEC_TIMESTAMP_S + 10)


def test_new_secret_is_whsec_and_24_bytes() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 24
    assert secret != new_secret()


def test_message_ids_are_unique() -> None:
    assert new_message_id().startswith("msg_")
    assert new_message_id() != new_message_id()


@pytest.fixture
def signed() -> tuple[str, dict[str, str], bytes]:
    secret, body = new_secret(), b'{"job": {"id": "j1", "status": "succeeded"}}'
    return secret, webhook_headers(secret, "msg_1", body, now_s=1_700_000_000), body


def test_round_trip(signed: tuple[str, dict[str, str], bytes]) -> None:
    secret, headers, body = signed
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert verify(secret, headers, body, now_s=1_700_000_100)


def test_tampered_body_fails(signed: tuple[str, dict[str, str], bytes]) -> None:
    secret, headers, body = signed
    assert not verify(secret, headers, body + b" ", now_s=1_700_000_000)


def test_tampered_timestamp_fails(signed: tuple[str, dict[str, str], bytes]) -> None:
    secret, headers, body = signed
    moved = {**headers, "webhook-timestamp": "1700000001"}
    assert not verify(secret, moved, body, now_s=1_700_000_000)


def test_tampered_id_fails(signed: tuple[str, dict[str, str], bytes]) -> None:
    secret, headers, body = signed
    assert not verify(secret, {**headers, "webhook-id": "msg_2"}, body, now_s=1_700_000_000)


@pytest.mark.parametrize("now_s", [1_700_000_000 + 301, 1_700_000_000 - 301])
def test_timestamp_outside_tolerance_fails(
    signed: tuple[str, dict[str, str], bytes], now_s: int
) -> None:
    secret, headers, body = signed
    assert not verify(secret, headers, body, now_s=now_s)


def test_other_secret_fails(signed: tuple[str, dict[str, str], bytes]) -> None:
    _, headers, body = signed
    assert not verify(new_secret(), headers, body, now_s=1_700_000_000)


def test_one_matching_signature_among_several_is_enough(
    signed: tuple[str, dict[str, str], bytes],
) -> None:
    secret, headers, body = signed
    several = f"v1,AAAA v2,BBBB {headers['webhook-signature']}"
    assert verify(secret, {**headers, "webhook-signature": several}, body, now_s=1_700_000_000)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_header_fails(signed: tuple[str, dict[str, str], bytes], missing: str) -> None:
    secret, headers, body = signed
    partial = {k: v for k, v in headers.items() if k != missing}
    assert not verify(secret, partial, body, now_s=1_700_000_000)


def test_bad_secret_is_refused() -> None:
    with pytest.raises(InvalidOptionError):
        sign("whsec_not base64!", "msg_1", 1, b"")
