"""A small outbound HTTP client that only reaches addresses the egress policy allows.

Each hop (the first request and every redirect) is checked and resolved once;
the connection goes to the checked addresses (``pinning.PinnedBackend``).
Bodies are never decompressed (``Accept-Encoding: identity``, and httpcore
does not decode), are counted while streaming, and stop just past the cap.
No proxy, netrc or cookie is ever used. httpcore's errors become dsac-asr's:
timeouts and connection failures are transient, bad answers are not.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from urllib.parse import SplitResult, quote, urljoin

import httpcore

from dsac_asr.egress.errors import SourceUnreachableError
from dsac_asr.egress.pinning import Deadline, PinnedBackend
from dsac_asr.egress.policy import (
    EgressPolicy,
    check_url_syntax,
    redacted,
    resolve_allowed,
    url_port,
)
from dsac_asr.errors import MediaTooLargeError, TransientError

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
USER_AGENT = "dsac-asr"
_SAFE_TARGET_CHARS = "/?&=%:@!$'()*+,;-._~"
_DROPPED_ON_NEW_ORIGIN = frozenset({"authorization", "cookie", "proxy-authorization"})


@dataclass(frozen=True)
class Timeouts:
    """Per-operation timeouts, and an optional bound on the whole exchange."""

    connect_s: float
    read_s: float
    total_s: float | None = None

    def as_extension(self) -> dict[str, float]:
        """httpcore's ``timeout`` request extension."""
        return {"connect": self.connect_s, "read": self.read_s, "write": self.read_s, "pool": 1.0}


@dataclass(frozen=True)
class _Hop:
    method: str
    url: str
    headers: Mapping[str, str]
    content: bytes | None


class SafeResponse:
    """An answer whose body can be streamed once, capped at ``max_bytes``."""

    def __init__(self, raw: httpcore.Response, url: str, max_bytes: int) -> None:
        self.status_code = raw.status
        self.headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in raw.headers}
        self.url = url
        self.display_url = redacted(url)
        self._raw = raw
        self._max_bytes = max_bytes

    def iter_bytes(self) -> Iterator[bytes]:
        """Yield the body as received; raise ``MediaTooLargeError`` once it passes the cap."""
        self._check_declared_length()
        total = 0
        with translated_errors(self.url):
            for chunk in self._raw.iter_stream():
                total += len(chunk)
                if total > self._max_bytes:
                    raise MediaTooLargeError(f"{self.display_url} is over {self._max_bytes} bytes")
                yield chunk

    def _check_declared_length(self) -> None:
        declared = self.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self._max_bytes:
            raise MediaTooLargeError(f"{self.display_url} declares {declared} bytes, over the cap")


@contextmanager
def open_stream(
    method: str,
    url: str,
    policy: EgressPolicy,
    *,
    timeouts: Timeouts,
    max_bytes: int,
    headers: Mapping[str, str] | None = None,
    content: bytes | None = None,
    follow_redirects: int = 5,
    ssl_context: ssl.SSLContext | None = None,
) -> Iterator[SafeResponse]:
    """Send a request and yield the final answer (a 3xx when redirects ran out).

    Raises ``EgressRefusedError``/``UnresolvableHostError`` before connecting to a
    refused host, ``TransientError`` on timeouts and connection failures, and
    ``SourceUnreachableError`` on protocol or certificate errors. Statuses are
    left to the caller.
    """
    hop = _Hop(method.upper(), url, dict(headers or {}), content)
    deadline = Deadline(timeouts.total_s)
    for redirects_left in range(follow_redirects, -1, -1):
        with _exchange(hop, policy, timeouts, deadline, ssl_context) as raw:
            following = _next_hop(hop, raw) if redirects_left else None
            if following is None:
                yield SafeResponse(raw, hop.url, max_bytes)
                return
        hop = following


@contextmanager
def _exchange(
    hop: _Hop,
    policy: EgressPolicy,
    timeouts: Timeouts,
    deadline: Deadline,
    ssl_context: ssl.SSLContext | None,
) -> Iterator[httpcore.Response]:
    parts = check_url_syntax(hop.url)
    addresses = resolve_allowed(parts.hostname or "", url_port(parts), policy)
    context = ssl_context or _default_ssl_context()
    backend = PinnedBackend(addresses, deadline)
    extensions = {"timeout": timeouts.as_extension()}
    with (
        translated_errors(hop.url),
        httpcore.ConnectionPool(ssl_context=context, network_backend=backend, retries=0) as pool,
        pool.stream(
            hop.method,
            _core_url(parts),
            headers=_request_headers(parts, hop.headers),
            content=hop.content,
            extensions=extensions,
        ) as raw,
    ):
        yield raw


@cache
def _default_ssl_context() -> ssl.SSLContext:
    """The system's trust store via certifi, as httpx uses; built once per process."""
    return httpcore.default_ssl_context()


def _core_url(parts: SplitResult) -> httpcore.URL:
    host = (parts.hostname or "").encode("idna")
    target = quote(parts.path or "/", safe=_SAFE_TARGET_CHARS)
    if parts.query:
        target += "?" + quote(parts.query, safe=_SAFE_TARGET_CHARS)
    return httpcore.URL(scheme=parts.scheme, host=host, port=url_port(parts), target=target)


def _request_headers(parts: SplitResult, extra: Mapping[str, str]) -> list[tuple[str, str]]:
    fixed = {"host", "accept-encoding", "connection"}
    headers = [(name, value) for name, value in extra.items() if name.lower() not in fixed]
    host = parts.netloc.rsplit("@", 1)[-1].encode("idna").decode("ascii")
    return [("Host", host), ("Accept-Encoding", "identity"), ("User-Agent", USER_AGENT), *headers]


def _next_hop(hop: _Hop, raw: httpcore.Response) -> _Hop | None:
    location = _header(raw, "location")
    if raw.status not in REDIRECT_STATUSES or location is None:
        return None
    url = urljoin(hop.url, location.strip())
    becomes_get = raw.status == 303 or (raw.status in (301, 302) and hop.method == "POST")
    method = "GET" if becomes_get and hop.method != "HEAD" else hop.method
    headers = hop.headers if _same_origin(hop.url, url) else _strip_secrets(hop.headers)
    return _Hop(method, url, headers, None if method == "GET" else hop.content)


def _header(raw: httpcore.Response, name: str) -> str | None:
    values = [v for k, v in raw.headers if k.decode("latin-1").lower() == name]
    return values[-1].decode("latin-1") if values else None


def _same_origin(first: str, second: str) -> bool:
    a, b = check_url_syntax(first), check_url_syntax(second)
    return (a.scheme, a.hostname, url_port(a)) == (b.scheme, b.hostname, url_port(b))


def _strip_secrets(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() not in _DROPPED_ON_NEW_ORIGIN}


@contextmanager
def translated_errors(url: str) -> Iterator[None]:
    """Turn httpcore's errors into dsac-asr's (``raise ... from``); messages omit the query."""
    url = redacted(url)
    try:
        yield
    except httpcore.TimeoutException as exc:
        raise TransientError(f"{url} timed out") from exc
    except httpcore.ConnectError as exc:
        if _refused_certificate(exc):
            raise SourceUnreachableError(f"{url}: TLS certificate refused: {exc}") from exc
        raise TransientError(f"cannot connect to {url}: {exc}") from exc
    except httpcore.NetworkError as exc:
        raise TransientError(f"the connection to {url} failed: {exc}") from exc
    except (httpcore.ProtocolError, httpcore.UnsupportedProtocol) as exc:
        raise SourceUnreachableError(f"{url} did not answer in valid HTTP: {exc}") from exc


def _refused_certificate(exc: httpcore.ConnectError) -> bool:
    """True when TLS verification failed (httpcore keeps the ``ssl`` error as arg and context)."""
    related = (exc.__cause__, exc.__context__, *exc.args)
    return any(isinstance(error, ssl.SSLCertVerificationError) for error in related)
