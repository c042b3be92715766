"""The one place where exceptions become HTTP status codes and JSON errors."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from dsac_asr.errors import (
    ConflictError,
    DsacError,
    InputError,
    MediaTooLargeError,
    MissingExtraError,
    ModelNotFoundError,
    NoModelForRequestError,
    NotFoundError,
    RequestTooLargeError,
    TransientError,
)

log = logging.getLogger(__name__)


class ApiError(DsacError):
    """An error raised by the API layer itself, with its HTTP status."""

    def __init__(
        self, status_code: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.headers = headers or {}


_STATUS_BY_TYPE: tuple[tuple[type[DsacError], int], ...] = (
    (ConflictError, 409),
    (MediaTooLargeError, 413),
    (RequestTooLargeError, 413),
    (NoModelForRequestError, 422),
    (ModelNotFoundError, 422),
    (InputError, 422),
    (NotFoundError, 404),
    (TransientError, 503),
    (MissingExtraError, 501),
)


def status_for(exc: DsacError) -> int:
    """The HTTP status for a dsac-asr error."""
    if isinstance(exc, ApiError):
        return exc.status_code
    return next((status for kind, status in _STATUS_BY_TYPE if isinstance(exc, kind)), 500)


def error_response(status_code: int, code: str, message: str, **headers: str) -> JSONResponse:
    """The JSON error body every error answer uses."""
    body = {"error": {"code": code, "message": message}}
    return JSONResponse(body, status_code=status_code, headers=headers or None)


async def _dsac_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DsacError)
    status = status_for(exc)
    if status >= 500:
        log.warning("%s: %s", exc.code, exc.message)
    headers = exc.headers if isinstance(exc, ApiError) else {}
    return error_response(status, exc.code, exc.message, **headers)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = {401: "unauthorized", 404: "not_found", 405: "method_not_allowed"}.get(
        exc.status_code, "http_error"
    )
    return error_response(exc.status_code, code, str(exc.detail), **(exc.headers or {}))


def describe_problems(errors: Sequence[Any]) -> str:
    """Pydantic validation errors as one line: ``field.path: message; ...``."""
    return "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in errors)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(422, "invalid_request", describe_problems(exc.errors()))


def install_error_handlers(app: FastAPI) -> None:
    """Map every error to ``{"error": {"code", "message"}}`` with the right status."""
    app.add_exception_handler(DsacError, _dsac_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
