"""Standard Webhooks signatures (https://www.standardwebhooks.com).

A message is signed as ``HMAC-SHA256(key, "<id>.<timestamp>.<body>")``, sent as
``webhook-signature: v1,<base64>``; the key is the base64 text after ``whsec_``
in the tenant's secret. Receivers verify with the same secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping

from dsac_asr.errors import InvalidOptionError

SECRET_PREFIX = "whsec_"
DEFAULT_TOLERANCE_S = 300


def new_secret() -> str:
    """A fresh signing secret: ``whsec_`` and base64 of 24 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode("ascii")


def new_message_id() -> str:
    """A fresh ``webhook-id``; store it with the event so every attempt reuses it."""
    return "msg_" + secrets.token_urlsafe(18)


def sign(secret: str, msg_id: str, timestamp_s: int, body: bytes) -> str:
    """The ``webhook-signature`` value for this message: ``v1,<base64 HMAC-SHA256>``."""
    signed = f"{msg_id}.{timestamp_s}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def _key(secret: str) -> bytes:
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        return base64.b64decode(encoded, validate=True)
    except binascii.Error as exc:
        raise InvalidOptionError("a webhook secret must be whsec_ followed by base64") from exc


def webhook_headers(secret: str, msg_id: str, body: bytes, now_s: int) -> dict[str, str]:
    """The three Standard Webhooks headers for one delivery attempt."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(now_s),
        "webhook-signature": sign(secret, msg_id, now_s, body),
    }


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
    now_s: int | None = None,
) -> bool:
    """True when one of the ``v1`` signatures matches and the timestamp is recent enough."""
    lowered = {name.lower(): value for name, value in headers.items()}
    msg_id, stamp = lowered.get("webhook-id", ""), lowered.get("webhook-timestamp", "")
    if not msg_id or not stamp.isdigit():
        return False
    timestamp_s = int(stamp)
    if abs((time.time() if now_s is None else now_s) - timestamp_s) > tolerance_s:
        return False
    expected = sign(secret, msg_id, timestamp_s, body).encode()
    offered = lowered.get("webhook-signature", "").split()
    return any(hmac.compare_digest(expected, candidate.encode()) for candidate in offered)
