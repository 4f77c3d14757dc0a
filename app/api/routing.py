"""Routing shared by every router: what every request must satisfy before its handler runs.

- Unknown query parameters are refused, not ignored. A misspelt filter (`?saftey_for=`) that is
  silently dropped returns wrong data to an integrator who never notices, so every route answers
  400 naming the parameters it does not declare. The exceptions are what the web adds to links
  and nobody means as a filter: campaign tags (`utm_*`) and a cache-buster named `_` are ignored
  everywhere, and the probes (`ProbeRoute`) ignore every parameter.
- At most MAX_QUERY_PARAMETERS query parameters (a filter repeated 1,500 times is refused).
- Every operation's id is its route's name (`operation_id`), set here once for every router.
- No NUL character anywhere: in the path, the query or the body. PostgreSQL cannot store NUL in
  text while SQLite can, so it is refused up front, the same on both stores (400).
- A JSON body must say so: a body sent as `text/plain`, as a form or with no Content-Type is 415
  (naming the header and what is accepted), never parsed on a guess.
- `Accept` is honoured: a route that answers JSON refuses with 406 an Accept that admits neither
  JSON nor problem+json (`produces`). Routes that serve other formats negotiate for themselves.

A hot write route may also answer its well-formed requests itself (`answers_well_formed`), past
FastAPI's per-request dependency solving, which costs more than the rest of such a route; every
other request (a missing or invalid field, an override in force) goes the usual way, so errors
are FastAPI's and the app's as before.
"""

import re
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from fastapi import params
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette._utils import get_route_path
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import Scope

from app.api.params import JSON
from app.core.errors import (
    PROBLEM_MEDIA_TYPE,
    FieldError,
    InvalidParameterError,
    UnknownParameterError,
    UnsupportedMediaTypeError,
    not_acceptable,
    problem_responses,
    unsupported_media_type,
)
from app.core.json_body import load_json
from app.core.negotiation import best_match

MAX_QUERY_PARAMETERS = 100
"""Far above what any route takes (a list filter repeated once per vocabulary value)."""
BODYLESS_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})
JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
"""A JSON string escape for NUL (\\u0000), not preceded by an escaped backslash."""
FORM_NUL = b"%00"
JSON_BODIES = (JSON, "application/*+json")
"""What a route taking a JSON body model reads (as FastAPI does: `+json` types are JSON too)."""
WellFormedHandler = Callable[[APIRoute, Request], Awaitable[Response | None]]
"""Answers a request whose parameters and body are well formed, or None to let the route's
usual handler (FastAPI's) answer it."""
WELL_FORMED = "answers_well_formed"
IGNORED_PREFIX = "utm_"
CACHE_BUSTER = "_"


def ignored(name: str) -> bool:
    """A parameter the web adds to links (campaign tags, a cache-buster), never a filter."""
    return name == CACHE_BUSTER or name.startswith(IGNORED_PREFIX)


def declared_query_names(dependant: Dependant) -> frozenset[str]:
    names: set[str] = set()
    pending = [dependant]
    while pending:
        current = pending.pop()
        for field in current.query_params:
            annotation = field.field_info.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                names.update(info.alias or name for name, info in annotation.model_fields.items())
            else:
                names.add(field.alias)
        pending.extend(current.dependencies)
    return frozenset(names)


Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def answers_well_formed(handler: WellFormedHandler) -> Callable[[Endpoint], Endpoint]:
    """Declare an endpoint's fast path: `handler` is called (with the route and the request,
    once the route's own checks have passed and the JSON body is parsed) before FastAPI's
    handler, and answers in its place unless it returns None. It must answer exactly as the
    endpoint would through FastAPI, and return None for anything it does not check itself."""

    def mark(endpoint: Endpoint) -> Endpoint:
        setattr(endpoint, WELL_FORMED, handler)
        return endpoint

    return mark


def operation_id(route: APIRoute) -> str:
    """An operation's id in the contract is its route's name (the handler's function name, or
    the `name` given to `add_api_route`): short and stable (`list_exercises`), where FastAPI's
    default (`list_exercises_v1_exercises_get`) also spells the path and method. Generated
    clients name their methods after it."""
    return route.name


def media_type_of(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def is_json(media_type: str) -> bool:
    return media_type == JSON or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


class StrictQueryRoute(APIRoute):
    checks_query = True
    produces: tuple[str, ...] | None = (JSON, PROBLEM_MEDIA_TYPE)
    """What the route answers in, for `Accept`; None when it negotiates for itself."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **{**kwargs, "generate_unique_id_function": operation_id})
        refuse_two_query_declarations(self)
        self.responses = {**implied_problems(self), **self.responses}
        self.literal_prefix = self.path_format.split("{", 1)[0]

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """As FastAPI matches, with a path that does not start with the route's literal part
        (its path up to the first parameter) refused first: every request is tried against the
        routes in turn, and the full match costs several times this."""
        if (
            scope["type"] == "http"
            and not get_route_path(scope).startswith(self.literal_prefix)
            and "fastapi" not in scope  # an included router's route matches its own way
        ):
            return Match.NONE, {}
        return super().matches(scope)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        extra_parameters = (self.openapi_extra or {}).get("parameters", [])
        allowed = declared_query_names(self.dependant) | {
            parameter["name"] for parameter in extra_parameters if parameter.get("in") == "query"
        }
        reads_json = takes_json_body(self)
        well_formed: WellFormedHandler | None = getattr(self.endpoint, WELL_FORMED, None)

        async def strict_handler(request: Request) -> Response:
            if "\x00" in request.scope["path"]:
                raise nul_refused("path", "path")
            if self.checks_query and request.scope["query_string"] and request.query_params:
                check_query(request, allowed)
            accept = request.headers.get("accept")
            if accept and self.produces is not None and not best_match(accept, self.produces):
                raise not_acceptable(accept, self.produces)
            if request.method not in BODYLESS_METHODS:
                body = await request.body()
                check_body(request, body)
                if body:
                    check_content_encoding(request.headers.get("content-encoding"))
                if reads_json and body:
                    check_json_media_type(request.headers.get("content-type"))
                    parse_json_once(request, body)
            if well_formed is not None and not request.app.dependency_overrides:
                answer = await well_formed(self, request)
                if answer is not None:
                    return answer
            return await handler(request)

        return strict_handler


def takes_json_body(route: APIRoute) -> bool:
    return route.body_field is not None and not isinstance(route.body_field.field_info, params.Form)


def implied_problems(route: StrictQueryRoute) -> dict[int | str, dict[str, Any]]:
    """The refusals every such route may give, for its OpenAPI entry: 406 when it checks
    Accept, 415 when it reads a JSON body."""
    statuses = [406] if route.produces is not None else []
    if takes_json_body(route):
        statuses.append(415)
    return {
        status: {key: value for key, value in entry.items() if key != "model"}
        for status, entry in problem_responses(*statuses).items()
    }


class ProbeRoute(StrictQueryRoute):
    """A liveness or readiness probe: whatever a load balancer or monitor appends to its URL, or
    sends as Accept, is ignored, so a probe never fails over it."""

    checks_query = False
    produces = None


class NegotiatingRoute(StrictQueryRoute):
    """A route that serves more than JSON and reads `Accept` itself (a handout's HTML or PDF)."""

    produces = None


def check_content_encoding(content_encoding: str | None) -> None:
    """A body is read as sent: one compressed (`gzip`, `br`) would be read as garbage, or
    worse, so any coding but `identity` is refused (415) rather than ignored."""
    if content_encoding is not None and content_encoding.strip().lower() not in ("", "identity"):
        raise UnsupportedMediaTypeError(
            f"The body was sent with Content-Encoding {content_encoding[:100]!r}; this API reads "
            "bodies only as sent, uncompressed.",
            [
                FieldError(
                    location="header",
                    field="content-encoding",
                    message="accepted: identity (no Content-Encoding)",
                )
            ],
        )


def parse_json_once(request: Request, body: bytes) -> None:
    """Parse the JSON body here, refusing a repeated key (400), and leave the document where
    FastAPI reads it (`request.json()`'s cache), so it is parsed once. A body that does not parse
    is left to FastAPI, which says where parsing stopped."""
    try:
        request._json = load_json(body)
    except ValueError:
        return


def check_json_media_type(content_type: str | None) -> None:
    if not is_json(media_type_of(content_type)):
        raise unsupported_media_type(content_type, JSON_BODIES)


def check_query(request: Request, allowed: frozenset[str]) -> None:
    items = request.query_params.multi_items()
    if len(items) > MAX_QUERY_PARAMETERS:
        raise InvalidParameterError(
            f"The query has {len(items)} parameters; at most {MAX_QUERY_PARAMETERS} are accepted.",
            [FieldError(location="query", field="query", message="too many parameters")],
        )
    for name, value in items:
        if "\x00" in name or "\x00" in value:
            raise nul_refused("query", name.replace("\x00", "\\0"))
    unknown = [name for name, _ in items if name not in allowed and not ignored(name)]
    if unknown:
        raise unknown_parameters(unknown, allowed)


def check_body(request: Request, body: bytes) -> None:
    """Refuse NUL in a body, raw or escaped the way its media type escapes it. (The body is read
    once: the handler gets the same bytes.) YAML's own escapes are refused by the content
    models' text types."""
    media_type = media_type_of(request.headers.get("content-type"))
    if media_type == "multipart/form-data":
        return  # files are binary; the text fields' models refuse NUL themselves
    if (
        b"\x00" in body
        or (media_type == "application/x-www-form-urlencoded" and FORM_NUL in body)
        or (b"\\u0000" in body and JSON_NUL.search(body))
    ):
        raise nul_refused("body", "body")


def nul_refused(location: str, field: str) -> InvalidParameterError:
    return InvalidParameterError(
        f"The {location} contains a NUL character, which is never accepted.",
        [FieldError(location=location, field=field, message="NUL characters are not accepted")],
    )


def unknown_parameters(unknown: list[str], allowed: frozenset[str]) -> UnknownParameterError:
    accepted = ", ".join(sorted(allowed)) or "none"
    return UnknownParameterError(
        f"Unknown query parameter(s): {', '.join(sorted(set(unknown)))}. Accepted: {accepted}.",
        [
            FieldError(location="query", field=name, message="unknown parameter")
            for name in sorted(set(unknown))
        ],
    )


def refuse_two_query_declarations(route: APIRoute) -> None:
    """A hot route may parse its whole query through one model by hand (`app.api.query_model`),
    declared to OpenAPI in `openapi_extra`. A parameter then added the usual way, with `Query()`,
    would never reach that model: refuse the route when it is declared, naming what to do."""
    by_hand = [
        parameter["name"]
        for parameter in (route.openapi_extra or {}).get("parameters", [])
        if parameter.get("in") == "query"
    ]
    declared = sorted(declared_query_names(route.dependant))
    if by_hand and declared:
        raise TypeError(
            f"{route.name} parses its query through a model by hand, so its Query() parameters "
            f"{', '.join(declared)} would not reach it: add them to that model instead."
        )
