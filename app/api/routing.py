"""Routing shared by every router: unknown query parameters are refused, not ignored.

A misspelt filter (`?saftey_for=`) that is silently dropped returns wrong data to an integrator who
never notices, so every route answers 400 naming the parameters it does not declare.
"""

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from app.core.errors import FieldError, UnknownParameterError


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


class StrictQueryRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        extra_parameters = (self.openapi_extra or {}).get("parameters", [])
        allowed = declared_query_names(self.dependant) | {
            parameter["name"] for parameter in extra_parameters if parameter.get("in") == "query"
        }

        async def strict_handler(request: Request) -> Response:
            if request.query_params:
                unknown = [name for name in request.query_params if name not in allowed]
                if unknown:
                    raise unknown_parameters(unknown, allowed)
            return await handler(request)

        return strict_handler


def unknown_parameters(unknown: list[str], allowed: frozenset[str]) -> UnknownParameterError:
    accepted = ", ".join(sorted(allowed)) or "none"
    return UnknownParameterError(
        f"Unknown query parameter(s): {', '.join(sorted(set(unknown)))}. Accepted: {accepted}.",
        [
            FieldError(location="query", field=name, message="unknown parameter")
            for name in sorted(set(unknown))
        ],
    )
