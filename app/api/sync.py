"""Offline sync for apps that keep their own copy of the catalogue: one download of everything,
then what changed since a revision. A page of changes serialises its own items only, in a worker
thread; the download is streamed a run of entries at a time from a worker thread, each run's
compressed piece kept until an edit changes it."""

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse

from app.api.dependencies import current_cursors, current_sync_view
from app.api.http_cache import accepts_gzip, matches_weakly
from app.api.params import JSON, CursorQuery
from app.api.response_headers import header, next_link
from app.api.routing import StrictQueryRoute
from app.api.schemas import CatalogueDownload, ChangesPage
from app.core import cursors
from app.core.errors import problem_responses
from app.domain.sync import FeedPosition, FeedQuery

router = APIRouter(prefix="/v1", tags=["sync"], route_class=StrictQueryRoute)


def feed_position(position: Any) -> tuple[int, FeedPosition]:
    """The pass's revision and where its last page ended, as a cursor holds them."""
    upto, (revision, slug) = position
    if not all(type(value) is int for value in (upto, revision)) or not isinstance(slug, str):
        raise TypeError("not a feed position")
    return upto, FeedPosition(revision, slug)


NEXT_LINK = next_link(
    "/v1/changes?since=0&cursor=W1s0MixbNDEsImNhdC1zdHJldGNoIl1dLCJmOGRmMTIxYzQ3NDliNTcyIl0"
    ".CKM8iykqM_lCD53P-m4w6mYUEP8"
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
    cursor: CursorQuery = None,
) -> Response:
    query = FeedQuery(since=since, limit=limit)
    signer = current_cursors(request)
    scope = cursors.scope_of({"since": str(since)})  # any size of integer
    if cursor is not None:
        upto, after = signer.read(cursor, scope, feed_position)
        query = FeedQuery(since=since, upto=upto, after=after, limit=limit)
    page = await run_in_threadpool(current_sync_view(request).changes.page, query)
    headers = {}
    next_cursor = None
    if page.next_after is not None:
        ended = page.next_after
        next_cursor = signer.issue([page.revision, [ended.revision, ended.slug]], scope)
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
        return StreamingResponse(view.document_gzip(), media_type=JSON, headers=headers)
    return StreamingResponse(view.document(), media_type=JSON, headers=headers)
