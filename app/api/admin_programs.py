"""The program builder at /admin/programs: a clinician (or admin) key builds a program for one
person, sees its findings live, overrides with reasons, saves it and prints its handout.

The page is the admin UI's (session, CSRF, HTML errors); its script (`programs.js`, served from
here, never inline) calls the public API for what is public (the catalogue, `POST
/v1/routine-checks`) and these routes for what needs the session: a generated routine's program
for the profile (nothing stored) and saving, which goes through the same service as `POST
/v1/programs`.
"""

import logging
from pathlib import Path
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Body, Form, Request
from pydantic import ValidationError
from starlette.responses import Response

from app.api.admin_ui import (
    AdminPageRoute,
    SignedInAny,
    SignedInAnyForm,
    page,
    same_origin,
)
from app.api.dependencies import ProgramsDep
from app.api.programs import ProgramRequest
from app.core.errors import ApiError, InvalidParametersError, field_error
from app.domain.routines import Phase, Profile, Sensitivity
from app.domain.vocabulary import Category, Equipment, Level, TargetArea

logger = logging.getLogger("app.admin_ui")

SCRIPT = Path(__file__).parent / "templates" / "admin" / "programs.js"
BUILDER_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
"""The builder's own policy: its script from this origin, its calls to this origin, nothing
else (the other admin pages run no script at all)."""

router = APIRouter(include_in_schema=False, route_class=AdminPageRoute)


def builder_page(
    request: Request,
    session: Any,
    *,
    initial: dict[str, Any] | None = None,
    error: ApiError | None = None,
    status_code: int = 200,
) -> Response:
    context = {
        "admin": session,
        # JSON in a data block: "<" escaped, so no "</script>" in a value can end the block.
        "initial": orjson.dumps(initial or {}).decode().replace("<", "\\u003c"),
        "error": error,
        "findings": getattr(error, "extensions", {}).get("findings", []) if error else [],
        "sensitivities": [value.value for value in Sensitivity],
        "levels": [value.value for value in Level],
        "phases": [value.value for value in Phase],
        "equipment": [value.value for value in Equipment],
        "categories": [value.value for value in Category],
        "target_areas": [value.value for value in TargetArea],
    }
    response = page(request, "programs.html", context, status_code)
    response.headers["Content-Security-Policy"] = BUILDER_CSP
    return response


@router.get("/admin/programs")
def program_builder(request: Request, session: SignedInAny) -> Response:
    return builder_page(request, session)


@router.get("/admin/programs.js")
def program_builder_script(session: SignedInAny) -> Response:
    return Response(SCRIPT.read_bytes(), media_type="text/javascript")


@router.post("/admin/programs/generated")
async def generated_program(
    request: Request,
    session: SignedInAny,
    programs: ProgramsDep,
    profile: Annotated[Profile, Body()],
) -> Response:
    """The program of the routine the engine makes for this profile (nothing stored)."""
    same_origin(request)
    program = programs.generated(profile)
    return Response(orjson.dumps(program.model_dump(mode="json")), media_type="application/json")


@router.post("/admin/programs")
async def save_program(
    request: Request,
    session: SignedInAnyForm,
    programs: ProgramsDep,
    program_request: Annotated[str, Form(alias="request", max_length=200_000)] = "",
) -> Response:
    """Store the program as POST /v1/programs does; a refusal shows the builder again, with
    the findings, and the program as it was."""
    try:
        parsed = orjson.loads(program_request or "{}")
    except orjson.JSONDecodeError:
        parsed = {}
    try:
        wanted = ProgramRequest.model_validate(parsed)
        created = await programs.store(
            wanted.profile, wanted.program, wanted.from_routine, wanted.overrides
        )
    except ValidationError as invalid:
        error = InvalidParametersError(
            "The program is not valid.",
            [field_error({**item, "loc": ("body", *item["loc"])}) for item in invalid.errors()],
        )
        return builder_page(request, session, initial=parsed, error=error, status_code=422)
    except ApiError as refused:
        return builder_page(
            request, session, initial=parsed, error=refused, status_code=refused.status
        )
    logger.info("admin UI: %r stored a program", session.name)
    context = {
        "admin": session,
        "routine_id": created.id,
        "delete_token": created.delete_token,
        "document": orjson.loads(created.document_json),
    }
    return page(request, "program_saved.html", context, 201)
