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
"""

import re
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from app.core.errors import FieldError, InvalidParameterError, UnknownParameterError

MAX_QUERY_PARAMETERS = 100
"""Far above what any route takes (a list filter repeated once per vocabulary value)."""
BODYLESS_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})
JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
"""A JSON string escape for NUL (\\u0000), not preceded by an escaped backslash."""
FORM_NUL = b"%00"
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


def operation_id(route: APIRoute) -> str:
    """An operation's id in the contract is its route's name (the handler's function name, or
    the `name` given to `add_api_route`): short and stable (`list_exercises`), where FastAPI's
    default (`list_exercises_v1_exercises_get`) also spells the path and method. Generated
    clients name their methods after it."""
    return route.name


class StrictQueryRoute(APIRoute):
    checks_query = True

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **{**kwargs, "generate_unique_id_function": operation_id})
        refuse_two_query_declarations(self)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        extra_parameters = (self.openapi_extra or {}).get("parameters", [])
        allowed = declared_query_names(self.dependant) | {
            parameter["name"] for parameter in extra_parameters if parameter.get("in") == "query"
        }

        async def strict_handler(request: Request) -> Response:
            if "\x00" in request.scope["path"]:
                raise nul_refused("path", "path")
            if self.checks_query and request.query_params:
                check_query(request, allowed)
            if request.method not in BODYLESS_METHODS:
                check_body(request, await request.body())
            return await handler(request)

        return strict_handler


class ProbeRoute(StrictQueryRoute):
    """A liveness or readiness probe: whatever a load balancer or monitor appends to its URL is
    ignored, so a probe never fails over a parameter."""

    checks_query = False


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
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
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
