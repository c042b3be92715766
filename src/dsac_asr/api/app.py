"""The FastAPI application of the native API."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from dsac_asr import __version__
from dsac_asr.api.deps import ApiServices
from dsac_asr.api.errors import install_error_handlers
from dsac_asr.api.legacy import router as legacy_router
from dsac_asr.api.limits import BodyLimitMiddleware
from dsac_asr.api.routes_audio import router as audio_router
from dsac_asr.api.routes_jobs import router as jobs_router
from dsac_asr.api.routes_openai import router as openai_router
from dsac_asr.api.routes_system import router as system_router
from dsac_asr.api.routes_web import install_web_page
from dsac_asr.api.schemas import JobCreate
from dsac_asr.config import Settings

DESCRIPTION = """Speech recognition for South African languages.

Authenticate with `Authorization: Bearer <key>` or `X-API-Key: <key>`
(`dsac-asr keys create --tenant NAME`). Errors are `{"error": {"code", "message"}}`
(OpenAI's `{"error": {"message", "type", "param", "code"}}` on `/v1/audio/transcriptions`).
A web page to try the service is at `/`.
"""


def create_app(services: ApiServices) -> FastAPI:
    """The API wired to ``services``."""
    app = FastAPI(title="dsac-asr", version=__version__, description=DESCRIPTION)
    app.state.services = services
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=services.settings.media_limits.max_size_bytes)
    app.include_router(jobs_router)
    app.include_router(system_router)
    app.include_router(legacy_router)
    app.include_router(audio_router)
    app.include_router(openai_router)
    install_web_page(app)
    _document_json_submissions(app)
    return app


def _document_json_submissions(app: FastAPI) -> None:
    """Add ``JobCreate`` to the OpenAPI components: ``POST /v1/jobs`` refers to it, but
    no route parameter declares it (the body is read by hand, multipart or JSON)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = build()
            schema = JobCreate.model_json_schema(ref_template="#/components/schemas/{model}")
            components = spec.setdefault("components", {}).setdefault("schemas", {})
            for name, definition in schema.pop("$defs", {}).items():
                components.setdefault(name, definition)
            components.setdefault("JobCreate", schema)
        return app.openapi_schema or build()

    app.openapi = openapi  # type: ignore[method-assign]


def services_from_settings(settings: Settings) -> ApiServices:
    """Open the store, object store and queue that ``settings`` describe."""
    from dsac_asr.jobs.queue import JobQueue
    from dsac_asr.jobs.services import open_objects, open_store
    from dsac_asr.models.registry import ModelRegistry

    queue = JobQueue(settings)
    return ApiServices(
        settings=settings,
        store=open_store(settings),
        objects=open_objects(settings),
        registry=ModelRegistry(settings.resolved_models_dir),
        enqueue=queue.enqueue,
        ping_queue=queue.ping,
    )


def app_from_environment() -> FastAPI:
    """An app configured from ``DSAC_*`` variables (``uvicorn --factory`` entry point)."""
    return create_app(services_from_settings(Settings()))
