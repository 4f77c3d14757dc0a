"""Dependencies, each named once as an Annotated alias."""

from typing import Annotated

from fastapi import Depends, Request

from app.db.catalogue_store import CatalogueStore, CatalogueWriter
from app.db.routine_cache import RoutineCache
from app.db.session import Database
from app.domain.catalogue import Catalogue
from app.domain.routines.memo import PlanCache


def current_catalogue(request: Request) -> Catalogue:
    store: CatalogueStore = request.app.state.catalogue_store
    return store.catalogue


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


CatalogueDep = Annotated[Catalogue, Depends(get_catalogue)]
PlanCacheDep = Annotated[PlanCache, Depends(get_plan_cache)]
RoutineCacheDep = Annotated[RoutineCache, Depends(get_routine_cache)]
DatabaseDep = Annotated[Database, Depends(get_database)]
CatalogueWriterDep = Annotated[CatalogueWriter, Depends(get_catalogue_writer)]
