"""Downloading a URL source to a local file, within the egress policy and a size cap."""

from __future__ import annotations

import ssl
from pathlib import Path

from dsac_asr.egress.client import REDIRECT_STATUSES, SafeResponse, Timeouts, open_stream
from dsac_asr.egress.errors import SourceUnreachableError
from dsac_asr.egress.policy import EgressPolicy, redacted

MAX_REDIRECTS = 5


def download(
    url: str,
    target: Path,
    policy: EgressPolicy,
    *,
    max_bytes: int,
    timeouts: Timeouts,
    ssl_context: ssl.SSLContext | None = None,
) -> int:
    """Save ``url``'s body to ``target`` and return its size; leave no partial file on failure."""
    try:
        with open_stream(
            "GET",
            url,
            policy,
            timeouts=timeouts,
            max_bytes=max_bytes,
            follow_redirects=MAX_REDIRECTS,
            ssl_context=ssl_context,
        ) as response:
            _require_success(url, response)
            return _save(response, target)
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def _require_success(url: str, response: SafeResponse) -> None:
    if response.status_code in REDIRECT_STATUSES:
        raise SourceUnreachableError(f"{redacted(url)} redirected more than {MAX_REDIRECTS} times")
    if not 200 <= response.status_code < 300:
        raise SourceUnreachableError(f"{response.display_url} answered HTTP {response.status_code}")


def _save(response: SafeResponse, target: Path) -> int:
    size = 0
    with target.open("wb") as out:
        for chunk in response.iter_bytes():
            out.write(chunk)
            size += len(chunk)
    return size
