"""Content administration: editing under If-Match, every status, import, export, audit."""

import json
from datetime import datetime
from typing import Annotated, Any

import orjson
import yaml
from fastapi import APIRouter, Body, Header, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from app.api.auth import AdminKey, EditorKey
from app.api.dependencies import ContentDep, CursorsDep
from app.api.http_cache import parse_if_match
from app.api.params import JSON, CursorQuery, SlugPath
from app.api.response_headers import location
from app.api.routing import StrictQueryRoute, check_json_media_type, is_json, media_type_of
from app.api.schemas import (
    AdminExercisePage,
    AuditEntry,
    AuditPage,
    ExerciseDetail,
    ImportReport,
)
from app.content import editing
from app.content.bundle import ContentBundle, ContentIssue, load_yaml
from app.core import cursors
from app.core.errors import (
    PreconditionFailedError,
    malformed_body,
    malformed_json,
    problem_responses,
    unsupported_media_type,
)
from app.core.json_body import load_json
from app.db.models import AuditEntryRow
from app.domain.exercise import Exercise
from app.domain.vocabulary import Status
from app.services.content import AuditQuery, Content, EditorListing, StoredExercise

router = APIRouter(tags=["administration"], route_class=StrictQueryRoute)

YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml")
IMPORT_MEDIA_TYPES = (JSON, *YAML_TYPES)
IMPORT_LIMIT_BYTES = 5 * 1024 * 1024

IfMatch = Annotated[
    str | None,
    Header(
        description='The version being edited, as the ETag from GET (e.g. `"3"`), or a '
        "comma-separated list of them, or `*` for any version. Required (428 without it); a weak "
        "tag never matches; no tag naming the current version is a 412, a malformed header a 400.",
        examples=['"1"'],
    ),
]


def expected_version(if_match: str | None, slug: str, content: Content) -> int | None:
    """The version a write may replace, as its If-Match allows (RFC 9110 13.1.1); None for `*`.
    Missing: 428; malformed: 400; no strong tag naming a current version: 412 (404 first if the
    exercise does not exist). The write itself compares and sets that version."""
    condition = parse_if_match(if_match)
    if condition.any:
        return None
    versions = {int(tag) for tag in condition.tags if tag.isdigit()}
    if len(versions) == 1 and len(condition.tags) == 1:
        return versions.pop()
    current = content.stored(slug).version
    if current in versions:
        return current
    raise PreconditionFailedError(
        f"If-Match names no current version of {slug!r} (it is at version {current}; a weak "
        "tag never matches). Fetch it again and reapply your edit."
    )


def exercise_response(stored: StoredExercise, status_code: int = 200) -> Response:
    headers = {"ETag": f'"{stored.version}"'}
    if status_code == 201:
        headers["Location"] = f"/v1/admin/exercises/{stored.slug}"
    return Response(stored.detail_json, status_code, headers, media_type=JSON)


EDIT_ERRORS = problem_responses(400, 401, 403, 404, 412, 413, 422, 428, 503)
WRITE_DOC = " Needs an editor or admin key and If-Match; 428 without it, 412 when stale."


@router.post(
    "/v1/exercises",
    status_code=201,
    response_model=None,
    summary="Create an exercise",
    description="Validated by the same rules as seed loading and import. Status `draft` keeps it "
    "out of public reads until published. Needs an editor or admin key.",
    responses={
        201: {
            "model": ExerciseDetail,
            "headers": {
                "Location": location("The exercise's URL.", "/v1/admin/exercises/cat-stretch")
            },
        },
        **problem_responses(400, 401, 403, 409, 413, 422, 503),
    },
)
def create_exercise(
    exercise: Annotated[Exercise, Body()], caller: EditorKey, content: ContentDep
) -> Response:
    return exercise_response(content.create(exercise, caller.name), 201)


@router.put(
    "/v1/exercises/{slug}",
    response_model=None,
    summary="Replace an exercise",
    description="The whole record; its slug must match the path. The document GET returns can "
    "be edited and sent back as it is: its read-only fields (`version`, each citation's "
    "`title`, `publisher_kind` and `seed_file`) are ignored when unchanged; a changed one is a "
    "422 naming it." + WRITE_DOC,
    responses={200: {"model": ExerciseDetail}, **EDIT_ERRORS, **problem_responses(415)},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {JSON: {"schema": {"$ref": "#/components/schemas/Exercise"}}},
        }
    },
)
async def replace_exercise(
    request: Request,
    slug: SlugPath,
    caller: EditorKey,
    content: ContentDep,
    if_match: IfMatch = None,
) -> Response:
    document = await json_object_body(request, "an exercise")
    version = await run_in_threadpool(expected_version, if_match, slug, content)
    stored = await run_in_threadpool(content.replace_document, slug, document, version, caller.name)
    return exercise_response(stored)


@router.patch(
    "/v1/exercises/{slug}",
    response_model=None,
    summary="Change some fields of an exercise",
    description="An RFC 7396 JSON merge patch (`null` removes a field), sent as "
    "`application/merge-patch+json` or `application/json`. A patch that changes nothing writes "
    "nothing: the same version and ETag." + WRITE_DOC,
    responses={200: {"model": ExerciseDetail}, **EDIT_ERRORS, **problem_responses(415)},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                media_type: {
                    "schema": {"$ref": "#/components/schemas/ExerciseMergePatch"},
                    "examples": {"rename": {"value": {"name": "Cat stretch (arched back)"}}},
                }
                for media_type in ("application/merge-patch+json", JSON)
            },
        }
    },
)
async def patch_exercise(
    request: Request,
    slug: SlugPath,
    caller: EditorKey,
    content: ContentDep,
    if_match: IfMatch = None,
) -> Response:
    patch = await json_object_body(request)
    version = await run_in_threadpool(expected_version, if_match, slug, content)
    stored = await run_in_threadpool(content.patch, slug, patch, version, caller.name)
    return exercise_response(stored)


@router.delete(
    "/v1/exercises/{slug}",
    response_model=None,
    summary="Retire an exercise",
    description="Sets its status to `retired`: gone from public lists, still inside the "
    "routines that hold it." + WRITE_DOC,
    responses={200: {"model": ExerciseDetail}, **EDIT_ERRORS},
)
def retire_exercise(
    slug: SlugPath, caller: EditorKey, content: ContentDep, if_match: IfMatch = None
) -> Response:
    version = expected_version(if_match, slug, content)
    return exercise_response(content.retire(slug, version, caller.name))


async def json_object_body(request: Request, what: str = "a merge patch") -> dict[str, Any]:
    check_json_media_type(request.headers.get("content-type"))
    try:
        value = orjson.loads(await request.body())
    except orjson.JSONDecodeError as error:
        raise malformed_json(error.doc, error.pos, error.msg) from None
    if not isinstance(value, dict):
        raise editing.rejected(
            [ContentIssue("body", "(body)", "(body)", f"{what} is a JSON object")]
        )
    return value


@router.get(
    "/v1/admin/exercises",
    response_model=None,
    summary="List exercises in any status",
    description="Drafts, published and retired exercises, in slug order, for editors.",
    responses={200: {"model": AdminExercisePage}, **problem_responses(400, 401, 403, 422, 503)},
)
def list_all_exercises(
    caller: EditorKey,
    content: ContentDep,
    signer: CursorsDep,
    status: Annotated[list[Status], Query()] = [],  # noqa: B006 - FastAPI copies defaults
    q: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: CursorQuery = None,
) -> Response:
    scope = cursors.scope_of({"status": frozenset(status), "q": q})
    listing = EditorListing(
        statuses=tuple(s.value for s in status),
        text=q,
        after_slug=signer.read(cursor, scope, cursors.slug_position) if cursor else None,
        limit=limit + 1,
    )
    found = content.page(listing)
    page = found[:limit]
    items = [stored.detail_json for stored in page]
    next_cursor = signer.issue(page[-1].slug, scope) if len(found) > limit else None
    body = b'{"items":[' + b",".join(items) + b'],"next_cursor":' + orjson.dumps(next_cursor) + b"}"
    return Response(body, media_type=JSON)


@router.get(
    "/v1/admin/exercises/{slug}",
    response_model=None,
    summary="Get an exercise in any status",
    description="The whole record with its ETag, whatever its status: what an editor edits.",
    responses={200: {"model": ExerciseDetail}, **problem_responses(400, 401, 403, 404, 422, 503)},
)
def get_any_exercise(slug: SlugPath, caller: EditorKey, content: ContentDep) -> Response:
    return exercise_response(content.stored(slug))


def bundle_document(raw: bytes, content_type: str | None) -> Any:
    """The body as a JSON or YAML document, by its media type."""
    media_type = media_type_of(content_type)
    try:
        if media_type in YAML_TYPES:
            return load_yaml(raw)
        if is_json(media_type):
            return load_json(raw)
    except json.JSONDecodeError as error:
        raise malformed_json(error.doc, error.pos, error.msg) from None
    except UnicodeDecodeError as error:
        raise malformed_body(f"The body is not UTF-8 text: {error.reason}.") from None
    except yaml.YAMLError as error:
        where = " ".join(str(error).split())[:300]
        raise malformed_body(f"The body is not valid YAML: {where}") from None
    raise unsupported_media_type(content_type, IMPORT_MEDIA_TYPES)


@router.post(
    "/v1/admin/import",
    response_model=ImportReport,
    summary="Import a content bundle",
    description="A bundle in the seed format (`{sources, exercises}`, JSON or YAML, up to 5 MB). "
    "Every entry is validated first, as the catalogue it would produce; then all of it is "
    "applied, or none. Reports created, updated and unchanged; with `dry_run=true` nothing is "
    "written. Each error names its entry, and its field and JSON Pointer from the bundle's root "
    "(`exercises.2.level`, `#/exercises/2/level`). Admin only.",
    responses=problem_responses(400, 401, 403, 409, 413, 415, 422, 503),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                JSON: {"schema": {"$ref": "#/components/schemas/ContentBundle"}},
                "application/yaml": {"schema": {"type": "string"}},
            },
        }
    },
)
async def import_bundle(
    request: Request,
    caller: AdminKey,
    content: ContentDep,
    dry_run: Annotated[bool, Query(description="Validate and report without writing.")] = False,
) -> ImportReport:
    # Parsing 5 MB (or a YAML parser's worst case) takes a while: off the event loop.
    body, content_type = await request.body(), request.headers.get("content-type")
    document = await run_in_threadpool(bundle_document, body, content_type)
    outcome = await run_in_threadpool(content.import_bundle, document, dry_run, caller.name)
    return ImportReport(
        dry_run=dry_run,
        created=outcome.created,
        updated=outcome.updated,
        unchanged=outcome.unchanged,
    )


@router.get(
    "/v1/admin/export",
    response_model=ContentBundle,
    summary="Export the whole catalogue",
    description="Every source and exercise, in any status, in the seed/import format: importing "
    "it into an empty database reproduces the catalogue exactly. Admin only.",
    responses=problem_responses(400, 401, 403, 503),
)
def export_bundle(caller: AdminKey, content: ContentDep) -> Response:
    return Response(orjson.dumps(content.export()), media_type=JSON)


@router.get(
    "/v1/admin/audit",
    response_model=AuditPage,
    summary="Read the audit trail",
    description="Every change to an exercise: who (key name), when, what (before and after), "
    "newest first, filtered by exercise and time. Admin only.",
    responses=problem_responses(400, 401, 403, 422, 503),
)
def read_audit(
    caller: AdminKey,
    content: ContentDep,
    signer: CursorsDep,
    exercise: Annotated[str | None, Query(max_length=80)] = None,
    since: Annotated[datetime | None, Query(description="Inclusive, ISO 8601.")] = None,
    until: Annotated[datetime | None, Query(description="Exclusive, ISO 8601.")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: CursorQuery = None,
) -> AuditPage:
    scope = cursors.scope_of({"exercise": exercise, "since": since, "until": until})
    older_than_id = signer.read(cursor, scope, audit_position) if cursor else None
    query = AuditQuery(
        exercise=exercise, since=since, until=until, older_than_id=older_than_id, limit=limit
    )
    rows, more = content.changes(query)
    items = [audit_entry(row) for row in rows]
    next_cursor = signer.issue(rows[-1].id, scope) if more else None
    return AuditPage(items=items, next_cursor=next_cursor)


def audit_position(position: Any) -> int:
    """A page of the audit trail ends at an entry's id."""
    if type(position) is not int:
        raise TypeError("an audit position is an entry id")
    return position


def audit_entry(row: AuditEntryRow) -> AuditEntry:
    assert row.id is not None
    return AuditEntry(
        id=row.id,
        at=row.at,
        actor=row.actor,
        action=row.action,
        exercise=row.exercise_slug,
        before=row.before,
        after=row.after,
    )
