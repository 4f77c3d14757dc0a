"""Dependencies, each named once as an Annotated alias. Everything the app holds at run time is
one typed `Runtime` (built in the lifespan); `runtime_of` is the one read of `app.state`."""

from typing import Annotated

from fastapi import Depends, Request

from app.core.cursors import Cursors
from app.core.errors import add_answer_headers
from app.domain.catalogue import Catalogue
from app.domain.fhir.activity import ActivityDefinitions
from app.domain.sync import SyncView
from app.services.content import Content
from app.services.keys import Keys
from app.services.programs import Programs
from app.services.routines import Routines
from app.services.runtime import Runtime


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def get_runtime(request: Request) -> Runtime:
    return runtime_of(request)


PINNED_CATALOGUE = "backcare.catalogue"
"""The scope key of the snapshot a request's ETag was computed from (see app.api.http_cache)."""


def current_catalogue(request: Request) -> Catalogue:
    """The snapshot pinned for this request, else the current one."""
    pinned: Catalogue | None = request.scope.get(PINNED_CATALOGUE)
    return pinned if pinned is not None else runtime_of(request).catalogue_store.current()


def current_activity_definitions(request: Request) -> ActivityDefinitions:
    """The FHIR view of the current snapshot (built once per snapshot)."""
    return runtime_of(request).fhir_views.for_catalogue(current_catalogue(request))


def current_sync_view(request: Request) -> SyncView:
    """What sync serves from the current snapshot (built once per snapshot)."""
    return runtime_of(request).sync_views.for_catalogue(current_catalogue(request))


def current_cursors(request: Request) -> Cursors:
    return runtime_of(request).cursors


async def get_cursors(request: Request) -> Cursors:
    return current_cursors(request)


async def get_catalogue(request: Request) -> Catalogue:
    return current_catalogue(request)


async def get_routines(request: Request) -> Routines:
    return runtime_of(request).routines


async def get_programs(request: Request) -> Programs:
    return runtime_of(request).programs


async def get_content(request: Request) -> Content:
    return runtime_of(request).content


async def get_keys(request: Request) -> Keys:
    return runtime_of(request).keys


def client_address(request: Request) -> str:
    """Who a rate limit counts: the peer address, or the forwarded one from a trusted proxy."""
    return request.client.host if request.client else "unknown"


async def spend_routine_write(request: Request) -> None:
    """Anonymous writes (routine creation and feedback) share one budget per client. What is
    left of it goes out on the answer, whatever it is, as the RateLimit header fields."""
    budget = await runtime_of(request).rate_limits.spend_routine_write(client_address(request))
    if budget is not None:
        add_answer_headers(request, budget.headers())


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
CatalogueDep = Annotated[Catalogue, Depends(get_catalogue)]
RoutinesDep = Annotated[Routines, Depends(get_routines)]
ProgramsDep = Annotated[Programs, Depends(get_programs)]
ContentDep = Annotated[Content, Depends(get_content)]
KeysDep = Annotated[Keys, Depends(get_keys)]
CursorsDep = Annotated[Cursors, Depends(get_cursors)]
RoutineWriteBudget = Depends(spend_routine_write)
