"""The printable handout of a stored routine, as an HTML page or a PDF."""

from fastapi import APIRouter, Request
from starlette.responses import Response

from app.api.dependencies import client_address, runtime_of
from app.api.http_cache import PRIVATE_IMMUTABLE, matches_weakly
from app.api.response_headers import RATE_LIMIT_HEADERS
from app.api.routines import RoutineId, stored_routine
from app.api.routing import NegotiatingRoute
from app.core.errors import problem_responses
from app.handout.negotiation import HandoutFormat, choose_variant

router = APIRouter(prefix="/v1", tags=["routines"], route_class=NegotiatingRoute)

CACHE_CONTROL = PRIVATE_IMMUTABLE
QUERY_PARAMETERS = [
    {
        "name": "format",
        "in": "query",
        "required": False,
        "description": "html or pdf; overrides Accept. Without it, Accept decides (HTML for */*).",
        "schema": {"type": "string", "enum": ["html", "pdf"]},
    },
    {
        "name": "paper",
        "in": "query",
        "required": False,
        "description": "Page size: a4 (the PDF's default) or letter. An HTML page without it "
        "leaves the size to the printer.",
        "schema": {"type": "string", "enum": ["a4", "letter"]},
    },
]


@router.get(
    "/routines/{routine_id}/handout",
    response_model=None,
    response_class=Response,
    summary="Get a routine as a printable handout",
    description="The stored routine as a sheet for the person: the safety box first, what it "
    "is for, each exercise with its steps, dose, cautions and time, how often, the sources, a "
    "week's log and a QR code back to this page. A referral prints as a 'see a healthcare "
    "provider' sheet with no exercises. `Accept: text/html` (or `?format=html`) gives one "
    "self-contained page; `Accept: application/pdf` (or `?format=pdf`) a PDF of the same page. "
    "Anything else is 406. Like its routine it never changes: strong ETag (send "
    "`If-None-Match` for a 304) and `Cache-Control: private, immutable`. Rendering a PDF "
    "counts against the client's render budget (429 past it; a PDF already rendered costs "
    "nothing), and past the renders a process runs and queues at once the answer is 503 with "
    "Retry-After.",
    openapi_extra={"parameters": QUERY_PARAMETERS},
    responses={
        200: {
            "description": "The handout",
            "headers": RATE_LIMIT_HEADERS,
            "content": {
                "text/html": {"schema": {"type": "string"}},
                "application/pdf": {"schema": {"type": "string", "format": "binary"}},
            },
        },
        304: {"description": "Not modified: the If-None-Match ETag is current"},
        **problem_responses(400, 404, 406, 410, 422, 429, 503),
    },
)
async def get_handout(routine_id: RoutineId, request: Request) -> Response:
    """A hot path like the routine read: state is read directly, not through dependencies.

    The routine is looked up first even when its handout is cached, so a deleted or purged
    routine's handout (it holds the person's profile) is never served again."""
    query = request.query_params
    variant = choose_variant(query.get("format"), query.get("paper"), request.headers.get("accept"))
    handouts = runtime_of(request).handouts
    document = await stored_routine(request, routine_id)  # 404, or 410 once deleted or purged
    images = handouts.images_mark(document)
    etag = handouts.etag(routine_id, variant, images)
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL, "Vary": "Accept"}
    if not_modified(request, etag):
        return Response(status_code=304, headers=headers)
    body = handouts.cached(routine_id, variant, images)
    if body is None:
        if variant.format is HandoutFormat.pdf:  # a rendered PDF is served for free
            budget = await runtime_of(request).rate_limits.spend_render(client_address(request))
            headers.update({} if budget is None else budget.headers())
        body = await handouts.render(routine_id, variant, document, images)
    return Response(body, headers=headers, media_type=variant.media_type)


def not_modified(request: Request, etag: str) -> bool:
    header = request.headers.get("if-none-match")
    return header is not None and matches_weakly(header, etag)
