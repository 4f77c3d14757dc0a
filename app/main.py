"""The ASGI application: `app.main:app`."""

import asyncio
import contextlib
import gc
import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import APIRouter, FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import __version__
from app.api import (
    admin,
    admin_programs,
    admin_ui,
    docs,
    exercises,
    fhir,
    handouts,
    health,
    illustrations,
    media,
    problems,
    programs,
    reference,
    routines,
    sync,
)
from app.api.contract import shaped_openapi
from app.api.http_cache import HttpCaching
from app.core.cors import CorsPolicy
from app.core.errors import database_unavailable, install_error_handlers
from app.core.limits import BodySizeLimit
from app.core.logging import configure_logging
from app.core.outages import OutageLog
from app.core.public_origin import PublicOrigin
from app.core.request_ids import RequestIds
from app.core.settings import Settings, get_settings
from app.core.startup import StartupError
from app.db.catalogue_store import CatalogueStore, one_line
from app.db.session import DRIVER_UNAVAILABLE_ERRORS, DatabaseUnavailableError
from app.services.runtime import Runtime

logger = logging.getLogger("app")

DESCRIPTION = """\
An open API for back-pain rehabilitation: a catalogue of stretches, strengthening, core
stabilisation and low-impact aerobic exercises from five cited articles, with progression levels
and contraindication flags for flexion-sensitive and extension-sensitive backs.

Every error is `application/problem+json` (RFC 9457) naming the parameter or field (at most 50
errors are listed; `error_count` says how many there were). Unknown query parameters are refused
with 400 rather than ignored, and so are more than 100 query parameters and a NUL character in any
path, query or body string. Bodies are typed strictly: `"20"` is not a number, `"yes"` not a
boolean. Routine creation and feedback, and failed key authentications, are rate limited per
client (429 with `Retry-After`).

Every GET also answers HEAD: the same status and headers, no body. A method a path does not
have is a 405 problem (under `/fhir/`, an OperationOutcome) whose `Allow` lists the methods it
has; an interaction the FHIR facade does not serve is a 400 OperationOutcome naming it. Every
GET that sends an `ETag` answers `If-None-Match` with a 304 and no body (declared on each): a
client keeps its copy.

Send `X-Request-ID` (1 to 128 visible ASCII characters) to name a request, or one is made: every
answer echoes it, a problem document carries it as `request_id` (an OperationOutcome at the end
of each issue's `diagnostics`, ` request_id=...`), and the server's log line for the request ends
with it, so a failing call can be quoted. Rate-limited operations say what is left of the
client's budget in the IETF `RateLimit-Policy` and `RateLimit` header fields, on every answer to
a request the budget counted, a 429 included.

This API gives general exercise information, not medical advice: check with a healthcare
provider before starting, and stop any exercise that increases pain or causes new pain.
"""


async def keep_catalogue_fresh(store: CatalogueStore, interval: float) -> None:
    """Poll the catalogue revision so changes made by other processes show within `interval`.
    Nothing ends the polling but cancellation: a failing poll is logged once when the failures
    start and once when a poll succeeds again, and the next poll comes all the same."""
    outage = OutageLog(logger, "catalogue refresh", "serving the last snapshot")
    while True:
        await asyncio.sleep(interval)
        try:
            await run_in_threadpool(store.refresh)
        except Exception as error:
            outage.failed(one_line(error))
        else:
            outage.answered()


def settle(freeze_heap: bool) -> None:
    """With `freeze_heap`, freeze what start-up left alive. (The PDF renderer warms up in its own
    worker processes: this process never imports WeasyPrint.)

    Everything alive by then (modules, schemas, the catalogue) lives as long
    as the process. A full garbage collection walked all of it: about 100 ms, holding the GIL,
    every 0.6 s under the routines bench's write load, which was that bench's p99. Frozen, those
    objects are skipped; what is made later is collected as usual. An object frozen here that
    later becomes garbage is still freed by reference counting (only a cycle stays)."""
    if freeze_heap:
        gc.collect()
        gc.freeze()


def lifespan_with(settings: Settings) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """The app's lifespan: the `Runtime` (`app.state.runtime`, read through
    `app.api.dependencies`) is built at start-up, kept fresh, and closed at shutdown."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = Runtime.start(settings)
        app.state.runtime = runtime
        threading.Thread(
            target=settle,
            args=(settings.freeze_heap_at_start,),
            name="start-up-settle",
            daemon=True,
        ).start()
        interval = settings.catalogue_refresh_seconds
        refresher = asyncio.create_task(keep_catalogue_fresh(runtime.catalogue_store, interval))
        try:
            yield
        finally:
            refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await refresher
            await run_in_threadpool(runtime.close)
            await runtime.rate_limits.close()

    return lifespan


class OneLineStartupFailure:
    """Reports a StartupError to the server as its one-line message instead of a traceback."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def send_one_line(message: Message) -> None:
            if message["type"] == "lifespan.startup.failed":
                lines = [line for line in str(message.get("message", "")).splitlines() if line]
                marker = f"{StartupError.__module__}.{StartupError.__name__}: "
                if lines and lines[-1].startswith(marker):
                    message = {**message, "message": lines[-1].removeprefix(marker)}
            await send(message)

        await self.app(scope, receive, send_one_line)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="Backcare API",
        version=__version__,
        summary="Exercises, contraindications and routines for back-pain rehabilitation.",
        description=DESCRIPTION,
        lifespan=lifespan_with(settings),
        license_info={"name": "MIT", "identifier": "MIT"},
        docs_url=None,  # served offline by app/api/docs.py
        redoc_url=None,
    )
    configure_logging(settings.log_level)
    upload_limit = settings.media_max_upload_bytes + media.UPLOAD_OVERHEAD_BYTES
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        larger_limits={"/v1/admin/import": admin.IMPORT_LIMIT_BYTES},
        larger_limit_patterns={
            media.UPLOAD_PATH_PATTERN: upload_limit,
            admin_ui.MEDIA_UPLOAD_PATH_PATTERN: upload_limit,
        },
        timeout_seconds=settings.request_body_timeout_seconds,
    )
    app.add_middleware(HttpCaching)
    app.add_middleware(
        CorsPolicy,
        public_origins=settings.cors_public_origins,
        admin_origins=settings.cors_admin_origins,
    )
    app.add_middleware(RequestIds)
    if settings.public_base_url_set:
        app.add_middleware(PublicOrigin, public_base_url=settings.public_base_url)
    app.add_middleware(OneLineStartupFailure)
    install_error_handlers(app)
    app.add_exception_handler(DatabaseUnavailableError, database_unavailable(explained=True))
    for error in DRIVER_UNAVAILABLE_ERRORS:
        app.add_exception_handler(error, database_unavailable(explained=False))
    for router in (
        exercises,
        illustrations,
        media,
        handouts,
        routines,
        programs,
        health,
        reference,
        sync,
        fhir,
        problems,
        docs,
        admin,
        admin_programs,
        admin_ui,
    ):
        mount(app, router.router)
    app.openapi = shaped_openapi(app.openapi)  # type: ignore[method-assign]
    return app


def mount(app: FastAPI, router: APIRouter) -> None:
    """Add a router's routes to the app itself, hottest routers first.

    `include_router` keeps each router as a nested layer that every request walks through, which
    costs more than the cached routine read itself. Our routers carry only a prefix, tags and a
    route class, all fixed on each route when it is declared, so adding the routes directly serves
    the same API and the same OpenAPI document.
    """
    app.router.routes.extend(router.routes)


app = create_app()
