"""What the API's routes depend on: its services and the caller's tenant."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from dsac_asr.api.errors import ApiError
from dsac_asr.config import Settings
from dsac_asr.jobs.model import Tenant
from dsac_asr.jobs.store import JobStore
from dsac_asr.models.registry import ModelRegistry
from dsac_asr.storage import ObjectStore


@dataclass(frozen=True)
class ApiServices:
    """The parts of the job service the API talks to."""

    settings: Settings
    store: JobStore
    objects: ObjectStore
    registry: ModelRegistry
    enqueue: Callable[[str], None]
    ping_queue: Callable[[], None]


def services(request: Request) -> ApiServices:
    """The services of the running app."""
    found: ApiServices = request.app.state.services
    return found


_bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer <api key>")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="The API key")


def tenant(
    svc: Annotated[ApiServices, Depends(services)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key)],
) -> Tenant:
    """The tenant whose key the request carries; 401 without a valid key."""
    key = bearer.credentials if bearer is not None else api_key
    if not key:
        raise ApiError(401, "unauthorized", "missing API key (Authorization: Bearer or X-API-Key)")
    found = svc.store.authenticate(key)
    if found is None:
        raise ApiError(401, "unauthorized", "invalid API key")
    return found


def operator(
    svc: Annotated[ApiServices, Depends(services)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """With ``DSAC_METRICS_KEY`` set, ``/metrics`` and ``/readyz`` answer only a request
    carrying it (``Authorization: Bearer``), compared in constant time; 401 otherwise."""
    expected = svc.settings.metrics_key
    if not expected:
        return
    given = bearer.credentials if bearer is not None else ""
    if not hmac.compare_digest(given.encode(), expected.encode()):
        message = "this endpoint needs the metrics key (DSAC_METRICS_KEY)"
        raise ApiError(401, "unauthorized", message)


Services = Annotated[ApiServices, Depends(services)]
CurrentTenant = Annotated[Tenant, Depends(tenant)]
