"""Dependencies, each named once as an Annotated alias."""

from typing import Annotated

from fastapi import Depends, Request

from app.core.settings import Settings
from app.db.catalogue_store import CatalogueStore
from app.db.routine_cache import RoutineCache
from app.db.session import Database
from app.domain.catalogue import Catalogue
from app.domain.routines.memo import PlanCache


def current_catalogue(request: Request) -> Catalogue:
    store: CatalogueStore = request.app.state.catalogue_store
    return store.catalogue


async def get_catalogue(request: Request) -> Catalogue:
    return current_catalogue(request)


async def get_catalogue_store(request: Request) -> CatalogueStore:
    store: CatalogueStore = request.app.state.catalogue_store
    return store


async def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


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
CatalogueStoreDep = Annotated[CatalogueStore, Depends(get_catalogue_store)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
