"""Offline sync for apps that keep their own copy of the catalogue: one download of everything,
then what changed since a revision. Both are served from bytes prepared once per snapshot."""

import base64
import binascii
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Query, Request
from starlette.responses import Response

from app.api.dependencies import current_sync_view
from app.api.http_cache import accepts_gzip, matches_weakly
from app.api.params import JSON
from app.api.routing import StrictQueryRoute
from app.api.schemas import CatalogueDownload, ChangesPage
from app.core.errors import FieldError, InvalidParameterError, problem_responses
from app.domain.exercise import SLUG_MAX_LENGTH
from app.domain.sync import FeedPosition, FeedQuery

router = APIRouter(prefix="/v1", tags=["sync"], route_class=StrictQueryRoute)

CURSOR_PATTERN = r"^[A-Za-z0-9_-]+$"


def encode_feed_cursor(query: FeedQuery, upto: int, after: FeedPosition) -> str:
    payload = {"since": query.since, "upto": upto, "after": [after.revision, after.slug]}
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")


def decode_feed_cursor(cursor: str, since: int) -> tuple[int, FeedPosition]:
    """The pass's revision and where its last page ended; 400 for a cursor this API did not
    issue or issued for another `since`."""
    try:
        decoded = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        upto, (revision, slug) = decoded["upto"], decoded["after"]
        issued_for = decoded["since"]
    except (ValueError, TypeError, KeyError, binascii.Error, orjson.JSONDecodeError):
        issued_for = upto = revision = slug = None
    if not (
        all(type(value) is int for value in (issued_for, upto, revision))
        and isinstance(slug, str)
        and len(slug) <= SLUG_MAX_LENGTH
    ):
        raise InvalidParameterError(
            "The cursor is not one this API issued. Start again without a cursor.",
            [FieldError(location="query", field="cursor", message="invalid cursor")],
        )
    if issued_for != since:
        raise InvalidParameterError(
            f"The cursor belongs to since={issued_for}, not since={since}. Follow the next link "
            "as given, or start again without a cursor.",
            [FieldError(location="query", field="cursor", message="cursor of another query")],
        )
    return int(upto), FeedPosition(int(revision), slug)


def header(description: str, example: str) -> dict[str, Any]:
    return {"description": description, "schema": {"type": "string"}, "example": example}


NEXT_LINK = header(
    "The next page, when there is one.",
    '</v1/changes?since=0&cursor=eyJzaW5jZSI6MH0>; rel="next"',
)
REVISION_ETAG = header("The catalogue revision, a strong tag.", '"42"')
VARY = header("The body depends on Accept-Encoding.", "Accept-Encoding")

SYNC_DOC = (
    " A client keeps its copy with GET /v1/catalogue once, then GET /v1/changes `since` the "
    "`revision` it last got."
)


@router.get(
    "/changes",
    summary="List what changed since a catalogue revision",
    description="Every exercise published, changed, retired or unpublished after revision "
    "`since`, oldest change first (by revision, then slug): the current public document for a "
    "published one, a tombstone (`exercise: null`) for the rest. `since=0` is a full sync. Pages "
    'with `limit` (1-100, default 100) and `next_cursor`, also sent as a `Link: rel="next"` '
    "header. Every page of one pass answers up to the same `revision`: once the last page is "
    "in, ask `since` it next, and nothing written meanwhile is missed. A `since` ahead of this "
    "server (a replica a second behind another) is an empty page with the server's `revision`."
    + SYNC_DOC,
    response_model=None,
    responses={
        200: {"model": ChangesPage, "headers": {"Link": NEXT_LINK}},
        **problem_responses(400, 422, 503),
    },
)
async def list_changes(
    request: Request,
    since: Annotated[
        int, Query(ge=0, description="The `revision` the client last got; 0 for everything.")
    ],
    limit: Annotated[int, Query(ge=1, le=100)] = 100,
    cursor: Annotated[
        str | None,
        Query(
            max_length=300,
            pattern=CURSOR_PATTERN,
            description="`next_cursor` from the previous page, with the same `since`.",
        ),
    ] = None,
) -> Response:
    query = FeedQuery(since=since, limit=limit)
    if cursor is not None:
        upto, after = decode_feed_cursor(cursor, since)
        query = FeedQuery(since=since, upto=upto, after=after, limit=limit)
    page = current_sync_view(request).changes.page(query)
    headers = {}
    next_cursor = None
    if page.next_after is not None:
        next_cursor = encode_feed_cursor(query, page.revision, page.next_after)
        next_url = request.url.include_query_params(cursor=next_cursor)
        headers["Link"] = f'<{next_url}>; rel="next"'
    body = b'{"revision":%d,"items":[%b],"next_cursor":%b}' % (
        page.revision,
        b",".join(page.items),
        orjson.dumps(next_cursor),
    )
    return Response(body, media_type=JSON, headers=headers)


CATALOGUE_HEADERS = {"ETag": REVISION_ETAG, "Vary": VARY}
CATALOGUE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "model": CatalogueDownload,
        "headers": {
            **CATALOGUE_HEADERS,
            "Content-Encoding": header("`gzip` when the client accepts it.", "gzip"),
        },
    },
    304: {
        "description": "Not modified: the If-None-Match ETag is the current revision",
        "headers": CATALOGUE_HEADERS,
    },
    **problem_responses(400, 422, 503),
}


@router.get(
    "/catalogue",
    summary="Download the whole published catalogue",
    description="Every published exercise in full, in one document, for an app's first "
    'download. Its strong `ETag` is the revision (`"42"`): `If-None-Match` with it answers '
    "304 while nothing changed. Sent gzip-compressed to a client that accepts it." + SYNC_DOC,
    response_model=None,
    responses=CATALOGUE_RESPONSES,
)
async def get_catalogue(
    request: Request,
    if_none_match: Annotated[
        str | None,
        Header(
            description="The ETag of the copy you hold: 304 while it is current.", examples=['"42"']
        ),
    ] = None,
) -> Response:
    view = current_sync_view(request)
    etag = f'"{view.catalogue.revision}"'
    headers = {"ETag": etag, "Vary": "Accept-Encoding"}
    if if_none_match is not None and matches_weakly(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    if accepts_gzip(request.headers.get("accept-encoding")):
        headers["Content-Encoding"] = "gzip"
        return Response(view.document_gzip, media_type=JSON, headers=headers)
    return Response(view.document, media_type=JSON, headers=headers)
