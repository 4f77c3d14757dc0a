"""/docs (Swagger UI) and /redoc (ReDoc), working offline: their scripts, stylesheet and icon are
served by the app from the `fastapi-offline` package, which ships both UIs' standalone builds, so
the pages load nothing from a CDN (FastAPI's own pages load them from jsDelivr)."""

from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

ASSETS_URL = "/static/docs"
ASSETS = Path(fastapi_offline.__file__).parent / "static"
SWAGGER_PARAMETERS = {"validatorUrl": None}
"""No validator badge: Swagger UI would send the spec to validator.swagger.io for it."""
SAME_ORIGIN_ONLY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' blob:; worker-src 'self' blob:; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
    "connect-src 'self'"
)
"""The pages may load nothing but the app's own: ReDoc's bundle still shows its vendor's logo
from cdn.redoc.ly (hidden when it fails to load), which this keeps the browser from fetching.
Inline scripts and styles are the UIs' own start-up code."""

router = APIRouter(include_in_schema=False)
router.mount(ASSETS_URL, StaticFiles(directory=ASSETS), name="docs-assets")


def asset(request: Request, name: str) -> str:
    return f"{request.scope.get('root_path', '')}{ASSETS_URL}/{name}"


def openapi_url(request: Request) -> str:
    return f"{request.scope.get('root_path', '')}{request.app.openapi_url}"


def same_origin_only(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = SAME_ORIGIN_ONLY
    return page


@router.get("/docs")
async def swagger_ui(request: Request) -> HTMLResponse:
    page = get_swagger_ui_html(
        openapi_url=openapi_url(request),
        title=f"{request.app.title} - Swagger UI",
        swagger_js_url=asset(request, "swagger-ui-bundle.js"),
        swagger_css_url=asset(request, "swagger-ui.css"),
        swagger_favicon_url=asset(request, "favicon.png"),
        swagger_ui_parameters=SWAGGER_PARAMETERS,
    )
    return same_origin_only(page)


@router.get("/redoc")
async def redoc(request: Request) -> HTMLResponse:
    page = get_redoc_html(
        openapi_url=openapi_url(request),
        title=f"{request.app.title} - ReDoc",
        redoc_js_url=asset(request, "redoc.standalone.js"),
        redoc_favicon_url=asset(request, "favicon.png"),
        with_google_fonts=False,
    )
    return same_origin_only(page)
