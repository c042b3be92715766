"""An httpcore network backend that connects only to addresses checked beforehand.

httpcore hands ``connect_tcp`` the URL's host name; this backend ignores the
name and connects to the addresses ``resolve_allowed`` returned for it, so no
second DNS lookup happens and the name cannot be rebound in between. The URL
keeps its host name, so the ``Host`` header, TLS SNI and certificate
verification all use the name as usual. Every socket operation's timeout is
also clipped to an optional overall deadline, so a server trickling bytes
cannot hold the caller past it.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterable, Sequence
from typing import Any

import httpcore

from dsac_asr.egress.addresses import IPAddress


class Deadline:
    """A wall-clock bound on a whole exchange (``None``: no bound beyond per-operation timeouts)."""

    def __init__(self, total_s: float | None) -> None:
        self._end = None if total_s is None else time.monotonic() + total_s

    def clip(self, timeout_s: float | None) -> float | None:
        """The timeout to use now: ``timeout_s`` or what is left, whichever is shorter."""
        if self._end is None:
            return timeout_s
        left_s = self._end - time.monotonic()
        if left_s <= 0:
            raise httpcore.ReadTimeout("the overall deadline has passed")
        return left_s if timeout_s is None else min(timeout_s, left_s)


class PinnedBackend(httpcore.NetworkBackend):
    """Connects to the first reachable of ``addresses``, whatever host name httpcore asks for."""

    def __init__(self, addresses: Sequence[IPAddress], deadline: Deadline) -> None:
        self._addresses = tuple(addresses)
        self._deadline = deadline
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        """Open a TCP stream to a checked address (``host`` is deliberately not looked up)."""
        failure = httpcore.ConnectError(f"no checked address for {host}")
        for ip in self._addresses:
            try:
                stream = self._inner.connect_tcp(
                    str(ip), port, self._deadline.clip(timeout), None, socket_options
                )
            except httpcore.ConnectError as exc:
                failure = exc
                continue
            return DeadlineStream(stream, self._deadline)
        raise failure

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        """Unix sockets are never reached from outbound requests."""
        raise httpcore.UnsupportedProtocol("unix sockets are not allowed")


class DeadlineStream(httpcore.NetworkStream):
    """A network stream whose every read, write and handshake respects a deadline."""

    def __init__(self, inner: httpcore.NetworkStream, deadline: Deadline) -> None:
        self._inner = inner
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        """Read up to ``max_bytes``."""
        return self._inner.read(max_bytes, self._deadline.clip(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        """Write all of ``buffer``."""
        self._inner.write(buffer, self._deadline.clip(timeout))

    def close(self) -> None:
        """Close the socket."""
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        """Handshake TLS; SNI and certificate checks use ``server_hostname`` (the URL host)."""
        tls = self._inner.start_tls(ssl_context, server_hostname, self._deadline.clip(timeout))
        return DeadlineStream(tls, self._deadline)

    def get_extra_info(self, info: str) -> Any:
        """Pass through (``ssl_object``, ``server_addr``...)."""
        return self._inner.get_extra_info(info)
