"""Health, readiness, metrics and the model list."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST

from dsac_asr.api.deps import CurrentTenant, Services, operator
from dsac_asr.api.metrics import render_metrics
from dsac_asr.api.openai_schemas import ModelCardList, alias_card, model_card
from dsac_asr.errors import DsacError

router = APIRouter()


@router.get("/healthz", tags=["system"], summary="The process is up")
def healthz() -> dict[str, str]:
    """Always ok while the process serves requests."""
    return {"status": "ok"}


_OPERATOR_ONLY = [Depends(operator)]
_NO_METRICS_KEY: dict[int | str, dict[str, object]] = {
    401: {"description": "DSAC_METRICS_KEY is set and was not given"}
}


@router.get(
    "/readyz",
    tags=["system"],
    summary="Database, broker and storage reachable",
    dependencies=_OPERATOR_ONLY,
    responses=_NO_METRICS_KEY,
)
def readyz(svc: Services) -> JSONResponse:
    """200 when every dependency answers, else 503 naming what failed."""
    checks = {"database": svc.store.ping, "broker": svc.ping_queue, "storage": svc.objects.ping}
    results: dict[str, str] = {}
    for name, check in checks.items():
        try:
            check()
            results[name] = "ok"
        except DsacError as exc:
            results[name] = exc.message
    ready = all(value == "ok" for value in results.values())
    return JSONResponse({"ready": ready, "checks": results}, status_code=200 if ready else 503)


@router.get(
    "/metrics",
    tags=["system"],
    summary="Prometheus metrics",
    dependencies=_OPERATOR_ONLY,
    responses=_NO_METRICS_KEY,
)
def metrics(svc: Services) -> Response:
    """Jobs by state, queue depth, audio seconds processed, real-time factor histogram."""
    return Response(render_metrics(svc.store), media_type=CONTENT_TYPE_LATEST)


@router.get(
    "/v1/models",
    tags=["models"],
    response_model=ModelCardList,
    summary="Installed models (OpenAI's list shape, with dsac-asr's fields)",
)
def list_models(svc: Services, _tenant: CurrentTenant) -> ModelCardList:
    """Every model jobs can be routed to, as ``{"object": "list", "data": [...]}``, then
    ``whisper-1``, the alias the OpenAI-compatible route routes by language."""
    models = svc.registry.models()
    return ModelCardList(data=[*(model_card(m) for m in models), alias_card(models)])
