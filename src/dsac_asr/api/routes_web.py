"""The web page at ``/``: try the service and read results in a browser.

The page is one server-rendered template plus static CSS and JavaScript (no
build step). It holds no data of its own: its script calls the JSON API with
the key the user types (kept in the tab's ``sessionStorage``, sent as
``Authorization: Bearer``), so the server never reads a cookie. A strict
Content-Security-Policy allows only the page's own script and style.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from dsac_asr import __version__
from dsac_asr.models.languages import SOUTH_AFRICAN
from dsac_asr.transcript import OutputFormat

_HERE = Path(__file__).parent
_templates = Jinja2Templates(directory=_HERE / "templates")

router = APIRouter(include_in_schema=False)

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "form-action 'none'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    )
)


@router.get("/", response_class=HTMLResponse)
def index(request: Request) -> HTMLResponse:
    """The page; everything on it comes from the JSON API through its script."""
    languages = [(lang.code, lang.name) for lang in SOUTH_AFRICAN]
    context = {
        "version": __version__,
        "languages": [*languages, ("mul", "Multilingual (detect per region)")],
        "formats": [fmt.value for fmt in OutputFormat],
    }
    response = _templates.TemplateResponse(request, "index.html", context)
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def install_web_page(app: FastAPI) -> None:
    """Serve the page at ``/`` and its files under ``/static``."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=_HERE / "static"), name="static")
