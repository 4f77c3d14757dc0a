"""Dependencies, each named once as an Annotated alias."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request

from app.db.catalogue_store import CatalogueStore, CatalogueWriter
from app.db.routine_cache import RoutineCache
from app.db.session import Database
from app.domain.catalogue import Catalogue
from app.domain.routines.memo import PlanCache


def current_catalogue(request: Request) -> Catalogue:
    store: CatalogueStore = request.app.state.catalogue_store
    return store.current()


async def get_catalogue(request: Request) -> Catalogue:
    return current_catalogue(request)


def get_catalogue_writer(request: Request) -> CatalogueWriter:
    writer: CatalogueWriter = request.app.state.catalogue_writer
    return writer


async def get_plan_cache(request: Request) -> PlanCache:
    cache: PlanCache = request.app.state.plan_cache
    return cache


async def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


async def get_routine_cache(request: Request) -> RoutineCache:
    cache: RoutineCache = request.app.state.routine_cache
    return cache


Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


async def get_now(request: Request) -> datetime:
    """The time of the request, in UTC, from the app's one clock (`app.state.clock`, `utc_now`
    unless a test moves it: the move-up rule looks back over about a week of feedback)."""
    clock: Clock = request.app.state.clock
    return clock()


CatalogueDep = Annotated[Catalogue, Depends(get_catalogue)]
PlanCacheDep = Annotated[PlanCache, Depends(get_plan_cache)]
RoutineCacheDep = Annotated[RoutineCache, Depends(get_routine_cache)]
DatabaseDep = Annotated[Database, Depends(get_database)]
CatalogueWriterDep = Annotated[CatalogueWriter, Depends(get_catalogue_writer)]
NowDep = Annotated[datetime, Depends(get_now)]
