"""An exercise's pictures: the list of its frames, and each frame as SVG or PNG (1x, 2x)."""

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from app.api.dependencies import CatalogueDep, ContentDep
from app.api.params import JSON, SlugPath
from app.api.routing import StrictQueryRoute
from app.api.schemas import IllustrationList
from app.core.errors import PROBLEM_MEDIA_TYPE, problem_responses
from app.domain.catalogue import Catalogue
from app.domain.figure.illustrations import PNG_MEDIA_TYPE, SVG_MEDIA_TYPE
from app.services.content import Content
from app.services.illustrations import Illustrations

IMMUTABLE = "public, max-age=31536000, immutable"
BINARY: dict[str, Any] = {"schema": {"type": "string", "format": "binary"}}


class SvgRoute(StrictQueryRoute):
    produces = (SVG_MEDIA_TYPE, PROBLEM_MEDIA_TYPE)


class PngRoute(StrictQueryRoute):
    produces = (PNG_MEDIA_TYPE, PROBLEM_MEDIA_TYPE)


router = APIRouter(prefix="/v1", tags=["exercises"], route_class=StrictQueryRoute)
svg_router = APIRouter(prefix="/v1", tags=["exercises"], route_class=SvgRoute)
png_router = APIRouter(prefix="/v1", tags=["exercises"], route_class=PngRoute)
illustrations = Illustrations()

VersionQuery = Annotated[
    int | None,
    Query(
        ge=1,
        description="The exercise's version, as the illustration URLs carry it. With it the "
        "answer may be cached for good (`immutable`): an earlier version is still served, as "
        "it was drawn. Without it, the current version, revalidated like the exercise.",
    ),
]
PICTURE_RESPONSES: dict[int | str, dict[str, Any]] = {**problem_responses(400, 404, 422, 503)}


async def picture_response(
    catalogue: Catalogue,
    content: Content,
    address: tuple[str, str, str, int],
    version: int | None,
) -> Response:
    slug, frame, extension, scale = address
    entry = illustrations.current(catalogue, slug, version)
    if entry is None:
        assert version is not None
        entry = await run_in_threadpool(illustrations.earlier, content, slug, version)
        illustrations.keep(entry)
    picture = illustrations.picture(entry, frame, extension, scale, version is not None)
    headers = {"ETag": picture.etag}
    if picture.immutable:
        headers["Cache-Control"] = IMMUTABLE
    return Response(picture.body, media_type=picture.media_type, headers=headers)


@router.get(
    "/exercises/{slug}/illustrations",
    summary="List an exercise's illustrations",
    description="One picture per key frame of the exercise's figure (start, end, more for "
    "several steps): the step it shows, its alt text and its SVG and PNG URLs. The URLs carry "
    "the exercise's version, so what they name never changes.",
    response_model=None,
    responses={200: {"model": IllustrationList}, **problem_responses(400, 404, 422, 503)},
)
async def list_illustrations(slug: SlugPath, catalogue: CatalogueDep) -> Response:
    version, items = illustrations.listing(catalogue, slug)
    body = orjson.dumps({"slug": slug, "version": version, "items": items})
    return Response(body, media_type=JSON, headers={"ETag": f'"{version}"'})


@svg_router.get(
    "/exercises/{slug}/illustrations/{frame}.svg",
    summary="Get an illustration as SVG",
    description="A frame of the exercise drawn as a small self-contained SVG, with its words in "
    "`<title>` and `<desc>`.",
    response_class=Response,
    responses={200: {"content": {SVG_MEDIA_TYPE: BINARY}}, **PICTURE_RESPONSES},
)
async def get_svg(
    slug: SlugPath,
    frame: str,
    catalogue: CatalogueDep,
    content: ContentDep,
    v: VersionQuery = None,
) -> Response:
    return await picture_response(catalogue, content, (slug, frame, "svg", 1), v)


@png_router.get(
    "/exercises/{slug}/illustrations/{frame}@2x.png",
    summary="Get an illustration as PNG, twice the size",
    description="The frame as a PNG 640 pixels wide, for dense screens.",
    response_class=Response,
    responses={200: {"content": {PNG_MEDIA_TYPE: BINARY}}, **PICTURE_RESPONSES},
)
async def get_png_2x(
    slug: SlugPath,
    frame: str,
    catalogue: CatalogueDep,
    content: ContentDep,
    v: VersionQuery = None,
) -> Response:
    return await picture_response(catalogue, content, (slug, frame, "png", 2), v)


@png_router.get(
    "/exercises/{slug}/illustrations/{frame}.png",
    summary="Get an illustration as PNG",
    description="The frame as a PNG 320 pixels wide.",
    response_class=Response,
    responses={200: {"content": {PNG_MEDIA_TYPE: BINARY}}, **PICTURE_RESPONSES},
)
async def get_png(
    slug: SlugPath,
    frame: str,
    catalogue: CatalogueDep,
    content: ContentDep,
    v: VersionQuery = None,
) -> Response:
    return await picture_response(catalogue, content, (slug, frame, "png", 1), v)


router.routes.extend([*svg_router.routes, *png_router.routes])
