"""Dependencies, each named once as an Annotated alias."""

from typing import Annotated

from fastapi import Depends, Request

from app.core.settings import Settings
from app.db.catalogue_store import CatalogueStore
from app.domain.catalogue import Catalogue


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


CatalogueDep = Annotated[Catalogue, Depends(get_catalogue)]
CatalogueStoreDep = Annotated[CatalogueStore, Depends(get_catalogue_store)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
