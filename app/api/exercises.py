"""Public catalogue reads: list with filters, one exercise, its progression chain."""

from dataclasses import replace
from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from app.api.dependencies import CatalogueDep, ContentDep, current_catalogue, current_cursors
from app.api.params import JSON, SlugPath
from app.api.query_model import list_fields, openapi_parameters, parse_query
from app.api.response_headers import next_link
from app.api.routing import StrictQueryRoute
from app.api.schemas import (
    CURSOR_EXAMPLE,
    ExerciseDetail,
    ExercisePage,
    ExerciseVersionList,
    ProgressionChain,
)
from app.core import cursors
from app.core.errors import NotFoundError, problem_responses
from app.domain.catalogue import Catalogue, CatalogueEntry, ExerciseQuery
from app.domain.timestamps import rfc3339
from app.domain.vocabulary import (
    Category,
    Equipment,
    Flag,
    Level,
    Position,
    SpinalMotion,
    TargetArea,
)

router = APIRouter(prefix="/v1", tags=["exercises"], route_class=StrictQueryRoute)


NO_EQUIPMENT = "none"
"""The `available_equipment` value for "I have no equipment"."""


class ExerciseFilters(BaseModel):
    """Query parameters of the exercise list. A repeated parameter means any of its values."""

    model_config = ConfigDict(extra="ignore")

    target_area: list[TargetArea] = Field(default_factory=list, description="Works this area.")
    category: list[Category] = Field(default_factory=list)
    position: list[Position] = Field(default_factory=list)
    level: list[Level] = Field(default_factory=list, description="Exactly this level.")
    max_level: Level | None = Field(default=None, description="This level or easier.")
    spinal_motion: list[SpinalMotion] = Field(default_factory=list)
    equipment: list[Equipment] = Field(
        default_factory=list, description="Uses this equipment (required or optional)."
    )
    available_equipment: list[Equipment | Literal["none"]] | None = Field(
        default=None,
        description="Needs nothing beyond these. `available_equipment=none` means no equipment "
        "at all (`available_equipment=`, empty, says the same). `none` beside equipment adds "
        "nothing to it.",
    )
    safe_for: list[Flag] = Field(
        default_factory=list,
        description="Leaves out exercises contraindicated for the flag. Repeated, it leaves out "
        "what is contraindicated for any of them (a safety filter narrows, never widens).",
    )
    bed_friendly: bool | None = None
    needs_helper: bool | None = None
    q: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="Case-insensitive text in the name, aliases or summary.",
    )
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = Field(
        default=None,
        max_length=cursors.MAX_LENGTH,
        pattern=cursors.PATTERN,
        description="`next_cursor` from the previous page, with the same filters.",
    )

    @field_validator("available_equipment", mode="before")
    @classmethod
    def _empty_means_none(cls, value: object) -> object:
        """`?available_equipment=` (empty) says "I have no equipment", as `none` does. The empty
        form cannot be written by a generated client (an empty list leaves the URL), so the
        contract names `none`."""
        if isinstance(value, list):
            return [item for item in value if item not in ("", NO_EQUIPMENT)]
        return value


FILTER_LISTS = list_fields(ExerciseFilters)


def to_query(filters: ExerciseFilters) -> ExerciseQuery:
    return ExerciseQuery(
        target_areas=frozenset(filters.target_area),
        categories=frozenset(filters.category),
        positions=frozenset(filters.position),
        levels=frozenset(filters.level),
        max_level=filters.max_level,
        spinal_motions=frozenset(filters.spinal_motion),
        equipment=frozenset(filters.equipment),
        available_equipment=(
            None
            if filters.available_equipment is None
            else frozenset(
                item for item in filters.available_equipment if isinstance(item, Equipment)
            )
        ),
        safe_for=frozenset(filters.safe_for),
        bed_friendly=filters.bed_friendly,
        needs_helper=filters.needs_helper,
        text=filters.q,
        limit=filters.limit,
    )


NEXT_LINK = next_link(f"/v1/exercises?limit=20&cursor={CURSOR_EXAMPLE}")
PAGING = ("after_slug", "limit")
"""The fields of an ExerciseQuery that page it; the others are the filters a cursor is bound to."""


def cursor_scope(query: ExerciseQuery) -> str:
    """What a cursor of this query is bound to; computed only when a cursor is read or issued
    (most pages of a filtered list need neither)."""
    return cursors.scope_of(cursors.filters_of(query, *PAGING))


def json_list(parts: list[bytes]) -> bytes:
    return b"[" + b",".join(parts) + b"]"


def find(catalogue: Catalogue, slug: str) -> CatalogueEntry:
    entry = catalogue.get(slug)
    if entry is None:
        raise NotFoundError(f"No published exercise has the slug {slug!r}.")
    return entry


@router.get(
    "/exercises",
    summary="List exercises",
    description="Published exercises in slug order, filtered. Different parameters all apply; a "
    "repeated parameter means any of its values (`safe_for` excepted: see its description). "
    'Pages with `limit` (1-100) and the opaque `next_cursor`, also sent as a `Link: rel="next"` '
    "header. Unknown parameters are refused with 400, never ignored.",
    response_model=None,
    responses={
        200: {"model": ExercisePage, "headers": {"Link": NEXT_LINK}},
        **problem_responses(400, 422, 503),
    },
    openapi_extra={"parameters": openapi_parameters(ExerciseFilters)},
)
async def list_exercises(request: Request) -> Response:
    """The hot path: filters are validated in one pass (see app.api.query_model) and the snapshot
    is read straight from app state rather than through CatalogueDep, whose per-request
    resolution alone costs about 6% of throughput."""
    filters = parse_query(ExerciseFilters, request, FILTER_LISTS)
    catalogue = current_catalogue(request)
    query = to_query(filters)
    signer = current_cursors(request)
    if filters.cursor is not None:
        after = signer.read(filters.cursor, cursor_scope(query), cursors.slug_position)
        query = replace(query, after_slug=after)
    page = catalogue.search(query)
    headers = {}
    next_cursor = None
    if page.next_after is not None:
        next_cursor = signer.issue(page.next_after, cursor_scope(query))
        next_url = request.url.include_query_params(cursor=next_cursor)
        headers["Link"] = f'<{next_url}>; rel="next"'
    body = (
        b'{"items":'
        + json_list([entry.summary_json for entry in page.entries])
        + b',"next_cursor":'
        + orjson.dumps(next_cursor)
        + b"}"
    )
    return Response(body, media_type=JSON, headers=headers)


@router.get(
    "/exercises/{slug}",
    summary="Get one exercise",
    description="The whole record: steps, cited dosages, contraindications with reasons, "
    "progressions, variants and citations. `version` increases with every change.",
    response_model=None,
    responses={200: {"model": ExerciseDetail}, **problem_responses(400, 404, 422, 503)},
)
async def get_exercise(slug: SlugPath, catalogue: CatalogueDep) -> Response:
    entry = find(catalogue, slug)
    return Response(entry.detail_json, headers={"ETag": f'"{entry.version}"'}, media_type=JSON)


@router.get(
    "/exercises/{slug}/progressions",
    summary="Get an exercise's progression chain",
    description="Every exercise linked to this one by easier/harder steps, easiest first. An "
    "exercise with no links is a chain of one.",
    response_model=None,
    responses={200: {"model": ProgressionChain}, **problem_responses(400, 404, 422, 503)},
)
async def get_progressions(slug: SlugPath, catalogue: CatalogueDep) -> Response:
    find(catalogue, slug)
    chain = catalogue.progression_chain(slug)
    body = (
        b'{"slug":'
        + orjson.dumps(slug)
        + b',"items":'
        + json_list([entry.summary_json for entry in chain])
        + b"}"
    )
    return Response(body, media_type=JSON)


VersionPath = Annotated[int, Path(ge=1, le=2**31 - 1, examples=[1])]


@router.get(
    "/exercises/{slug}/versions",
    summary="List an exercise's versions",
    description="Every version of the exercise that was published (or retired it), oldest "
    "first, each with the URL of its whole record. A routine names the version it gave, so "
    "what the person was given stays readable after the exercise is edited or retired.",
    response_model=None,
    responses={200: {"model": ExerciseVersionList}, **problem_responses(400, 404, 422, 503)},
)
async def list_exercise_versions(slug: SlugPath, content: ContentDep) -> Response:
    versions = await run_in_threadpool(content.versions, slug)
    if not versions:
        raise NotFoundError(f"No exercise with the slug {slug!r} was ever published.")
    items = [
        {
            "version": item.entry.version,
            "status": item.status,
            "recorded_at": rfc3339(item.recorded_at),
            "url": f"/v1/exercises/{slug}/versions/{item.entry.version}",
        }
        for item in versions
    ]
    return Response(orjson.dumps({"slug": slug, "items": items}), media_type=JSON)


@router.get(
    "/exercises/{slug}/versions/{version}",
    summary="Get one version of an exercise",
    description="The whole record as that version had it, in the shape of `GET "
    "/v1/exercises/{slug}` (its `status` says whether it was published or retired). A version "
    "that was never published (a draft) is a 404.",
    response_model=None,
    responses={200: {"model": ExerciseDetail}, **problem_responses(400, 404, 422, 503)},
)
async def get_exercise_version(
    slug: SlugPath, version: VersionPath, content: ContentDep
) -> Response:
    found = await run_in_threadpool(content.versions, slug, version)
    if not found:
        raise NotFoundError(f"The exercise {slug!r} has no published version {version}.")
    entry = found[0].entry
    return Response(entry.detail_json, headers={"ETag": f'"{entry.version}"'}, media_type=JSON)
