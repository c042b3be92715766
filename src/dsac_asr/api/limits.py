"""Request body limit: answer 413 without reading far past the limit.

A declared ``Content-Length`` over the limit is refused before any of the
body is read; a chunked or lying body is cut off as soon as the bytes
received pass the limit.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dsac_asr.api.errors import error_response
from dsac_asr.errors import MediaTooLargeError, RequestTooLargeError

MULTIPART_OVERHEAD_BYTES = 64 * 1024


class BodyLimitMiddleware:
    """Refuse request bodies larger than ``max_bytes`` (plus room for form fields)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.limit_bytes = max_bytes + MULTIPART_OVERHEAD_BYTES

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the declared length, then count what arrives."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._declared_bytes(scope) > self.limit_bytes:
            await error_response(413, MediaTooLargeError.code, self._message())(
                scope, receive, send
            )
            return
        await self.app(scope, self._counting(receive), send)

    def _declared_bytes(self, scope: Scope) -> int:
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit():
                return int(value)
        return 0

    def _message(self) -> str:
        return f"the request body is larger than {self.limit_bytes} bytes"

    def _counting(self, receive: Receive) -> Receive:
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit_bytes:
                raise MediaTooLargeError(self._message())
            return message

        return counting_receive


async def read_limited(request: Request, max_bytes: int) -> bytes:
    """The request body, refused (``RequestTooLargeError``, 413) as soon as it is
    declared or found to be over ``max_bytes``: JSON submissions are small."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise RequestTooLargeError(_json_message(max_bytes))
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > max_bytes:
            raise RequestTooLargeError(_json_message(max_bytes))
    return bytes(body)


def _json_message(max_bytes: int) -> str:
    return f"a JSON submission may be at most {max_bytes} bytes (DSAC_MAX_JSON_KB)"
