"""OpenAI's error shape, for the OpenAI-compatible routes only.

``{"error": {"message", "type", "param", "code"}}``: a superset of the native
``{"error": {"code", "message"}}``, so clients of either read it. Invalid
input answers 400 here (OpenAI's status) where the native API answers 422.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from dsac_asr.api.errors import ApiError, describe_problems, status_for
from dsac_asr.api.openai_schemas import OpenAIError, OpenAIErrorBody
from dsac_asr.errors import (
    DsacError,
    InputError,
    ModelNotFoundError,
    NoModelForRequestError,
    UnknownLanguageError,
)


class OpenAIApiError(ApiError):
    """An API error that names the request field it is about."""

    def __init__(
        self,
        status_code: int,
        code: str,
        message: str,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status_code, code, message, headers)
        self.param = param


_PARAM_BY_TYPE: tuple[tuple[type[DsacError], str], ...] = (
    (UnknownLanguageError, "language"),
    (NoModelForRequestError, "language"),
    (ModelNotFoundError, "model"),
    (InputError, "file"),
)


def openai_error_response(
    status_code: int,
    code: str | None,
    message: str,
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """An error answer in OpenAI's shape."""
    kind = "server_error" if status_code >= 500 else "invalid_request_error"
    if status_code == 429:
        kind = "rate_limit_error"
    body = OpenAIError(error=OpenAIErrorBody(message=message, type=kind, param=param, code=code))
    return JSONResponse(body.model_dump(), status_code=status_code, headers=headers)


def response_for(exc: Exception) -> JSONResponse | None:
    """The OpenAI-shaped answer for an exception, or ``None`` for one left to propagate."""
    if isinstance(exc, RequestValidationError):
        errors = exc.errors()
        location = [str(part) for part in errors[0].get("loc", ())[1:]] if errors else []
        param = location[0] if location else None
        return openai_error_response(400, "invalid_value", describe_problems(errors), param)
    if isinstance(exc, HTTPException):
        headers = dict(exc.headers) if exc.headers else None
        return openai_error_response(exc.status_code, None, str(exc.detail), None, headers)
    if isinstance(exc, DsacError):
        return _dsac_response(exc)
    return None


def _dsac_response(exc: DsacError) -> JSONResponse:
    status = status_for(exc)
    headers = exc.headers if isinstance(exc, ApiError) else None
    if status == 401:
        return openai_error_response(401, "invalid_api_key", exc.message, None, headers)
    if isinstance(exc, OpenAIApiError):
        return openai_error_response(status, exc.code, exc.message, exc.param, headers)
    param = next((name for kind, name in _PARAM_BY_TYPE if isinstance(exc, kind)), None)
    if isinstance(exc, InputError | NoModelForRequestError | ModelNotFoundError) and status < 500:
        status = 413 if status == 413 else 400
    return openai_error_response(status, exc.code, exc.message, param, headers)


class OpenAIRoute(APIRoute):
    """A route whose errors, its dependencies' included, answer in OpenAI's shape."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Wrap FastAPI's handler to translate what it raises."""
        handler = super().get_route_handler()

        async def openai_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:
                answer = response_for(exc)
                if answer is None:
                    raise
                return answer

        return openai_handler
