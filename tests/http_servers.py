"""Real HTTP(S) servers on loopback for the egress and callback tests.

Each server runs ``http.server`` in a thread, answers with a function the test
gives, and records every connection and request it receives, so tests can
prove that a refused URL was never contacted.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    """One request as the server saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Respond = Callable[["Handler", Received], None]


class Handler(BaseHTTPRequestHandler):
    """Records the request, then lets the test's ``respond`` answer it."""

    protocol_version = "HTTP/1.1"
    server: _Server

    def do_GET(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        received = Received(self.command, self.path, dict(self.headers), self.rfile.read(length))
        self.server.owner.received.append(received)
        self.server.owner.respond(self, received)

    do_POST = do_GET

    def reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        """Send a complete answer with a Content-Length."""
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    owner: LoopbackServer

    def process_request(self, request: Any, client_address: Any) -> None:
        self.owner.connections += 1
        super().process_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up early are expected here."""


class LoopbackServer:
    """One server on ``host`` (any 127/8 address), at ``port`` or one the OS picks."""

    def __init__(self, respond: Respond, host: str = "127.0.0.1", port: int = 0) -> None:
        self.respond = respond
        self.received: list[Received] = []
        self.connections = 0
        self.stop = threading.Event()
        self.httpd = _Server((host, port), Handler)
        self.httpd.owner = self
        self.host, self.port = host, self.httpd.server_address[1]
        self.scheme = "http"

    def use_tls(self, context: ssl.SSLContext) -> None:
        """Serve HTTPS with ``context`` (call before ``start``)."""
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.scheme = "https"

    def url(self, path: str = "/", host: str | None = None) -> str:
        """A URL for ``path`` on this server, optionally under another host name."""
        return f"{self.scheme}://{host or self.host}:{self.port}{path}"

    def start(self) -> None:
        """Serve in a daemon thread."""
        options = {"poll_interval": 0.05}
        threading.Thread(target=self.httpd.serve_forever, kwargs=options, daemon=True).start()

    def close(self) -> None:
        """Stop serving and release slow handlers."""
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@contextmanager
def serving(respond: Respond, host: str = "127.0.0.1", port: int = 0) -> Iterator[LoopbackServer]:
    """A started server, closed afterwards."""
    server = LoopbackServer(respond, host, port)
    server.start()
    try:
        yield server
    finally:
        server.close()


def trickle(handler: Handler, every_s: float = 0.1, limit_s: float = 5.0) -> None:
    """Answer one header byte at a time, for ``limit_s`` or until the server stops."""
    handler.wfile.write(b"HTTP/1.1 200 OK\r\n")
    for _ in range(int(limit_s / every_s)):
        if handler.server.owner.stop.wait(every_s):
            return
        try:
            handler.wfile.write(b"X")
            handler.wfile.flush()
        except OSError:
            return


def stall(handler: Handler, received: Received) -> None:
    """Answer nothing for 5 s (or until the server stops)."""
    handler.server.owner.stop.wait(5.0)
