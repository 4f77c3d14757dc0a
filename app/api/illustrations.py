"""An exercise's pictures: the list of its frames, and each frame as SVG or PNG (1x, 2x)."""

from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from app.api.dependencies import CatalogueDep, RuntimeDep, current_catalogue, runtime_of
from app.api.params import JSON, SlugPath
from app.api.query_model import openapi_parameters, parse_query
from app.api.routing import StrictQueryRoute
from app.api.schemas import IllustrationList
from app.core.errors import PROBLEM_MEDIA_TYPE, problem_responses
from app.domain.figure.illustrations import PNG_MEDIA_TYPE, SVG_MEDIA_TYPE

IMMUTABLE = "public, max-age=31536000, immutable"
BINARY: dict[str, Any] = {"schema": {"type": "string", "format": "binary"}}


class SvgRoute(StrictQueryRoute):
    produces = (SVG_MEDIA_TYPE, PROBLEM_MEDIA_TYPE)


class PngRoute(StrictQueryRoute):
    produces = (PNG_MEDIA_TYPE, PROBLEM_MEDIA_TYPE)


router = APIRouter(prefix="/v1", tags=["exercises"], route_class=StrictQueryRoute)
svg_router = APIRouter(prefix="/v1", tags=["exercises"], route_class=SvgRoute)
png_router = APIRouter(prefix="/v1", tags=["exercises"], route_class=PngRoute)


class PictureQuery(BaseModel):
    """The query of a picture."""

    model_config = ConfigDict(extra="ignore")

    v: int | None = Field(
        default=None,
        ge=1,
        le=2**31 - 1,
        description="The exercise's version, as the illustration URLs carry it. With it the "
        "answer may be cached for good (`immutable`): an earlier version is still served, as "
        "it was drawn. Without it, the current version, revalidated like the exercise.",
    )


PICTURE_PARAMETERS: list[dict[str, Any]] = [
    {
        "name": "slug",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "examples": ["cat-stretch"]},
    },
    {
        "name": "frame",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "examples": ["start"]},
        "description": "The frame's name, as the exercise's `illustrations` list it.",
    },
    *openapi_parameters(PictureQuery),
]
PICTURE_RESPONSES: dict[int | str, dict[str, Any]] = {**problem_responses(400, 404, 422, 503)}
NO_LISTS: frozenset[str] = frozenset()


async def picture_response(request: Request, extension: str, scale: int) -> Response:
    """A picture route's whole work. It reads its parameters itself, as the exercise list does:
    FastAPI's per-request parameter solving costs more than serving a cached picture."""
    version = parse_query(PictureQuery, request, NO_LISTS).v
    slug, frame = request.path_params["slug"], request.path_params["frame"]
    catalogue = current_catalogue(request)
    runtime = runtime_of(request)
    illustrations = runtime.illustrations
    entry = illustrations.current(catalogue, slug, version)
    if entry is None:
        assert version is not None
        content = runtime.content
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
async def list_illustrations(
    slug: SlugPath, catalogue: CatalogueDep, runtime: RuntimeDep
) -> Response:
    version, items = runtime.illustrations.listing(catalogue, slug)
    body = orjson.dumps({"slug": slug, "version": version, "items": items})
    return Response(body, media_type=JSON, headers={"ETag": f'"{version}"'})


@svg_router.get(
    "/exercises/{slug}/illustrations/{frame}.svg",
    summary="Get an illustration as SVG",
    description="A frame of the exercise drawn as a small self-contained SVG, with its words in "
    "`<title>` and `<desc>`.",
    response_class=Response,
    responses={200: {"content": {SVG_MEDIA_TYPE: BINARY}}, **PICTURE_RESPONSES},
    openapi_extra={"parameters": PICTURE_PARAMETERS},
)
async def get_svg(request: Request) -> Response:
    return await picture_response(request, "svg", 1)


@png_router.get(
    "/exercises/{slug}/illustrations/{frame}@2x.png",
    summary="Get an illustration as PNG, twice the size",
    description="The frame as a PNG 640 pixels wide, for dense screens.",
    response_class=Response,
    responses={200: {"content": {PNG_MEDIA_TYPE: BINARY}}, **PICTURE_RESPONSES},
    openapi_extra={"parameters": PICTURE_PARAMETERS},
)
async def get_png_2x(request: Request) -> Response:
    return await picture_response(request, "png", 2)


@png_router.get(
    "/exercises/{slug}/illustrations/{frame}.png",
    summary="Get an illustration as PNG",
    description="The frame as a PNG 320 pixels wide.",
    response_class=Response,
    responses={200: {"content": {PNG_MEDIA_TYPE: BINARY}}, **PICTURE_RESPONSES},
    openapi_extra={"parameters": PICTURE_PARAMETERS},
)
async def get_png(request: Request) -> Response:
    return await picture_response(request, "png", 1)


router.routes.extend([*svg_router.routes, *png_router.routes])
