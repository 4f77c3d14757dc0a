"""Programs a clinician builds: check one against the rules routines follow.

The routes parse, call the programs service (`app/services/programs.py`) and shape its answer.
"""

from typing import Annotated

from fastapi import APIRouter, Body
from pydantic import BaseModel, ConfigDict, Field, JsonValue, model_validator
from pydantic.config import JsonDict
from starlette.responses import Response

from app.api.auth import ClinicianKey
from app.api.dependencies import ProgramsDep
from app.api.params import JSON
from app.api.response_headers import location
from app.api.routines import RoutineCreated, location_of, with_delete_token
from app.api.routing import StrictQueryRoute
from app.core.errors import PROBLEM_MEDIA_TYPE, Problem, problem_responses
from app.domain.routines import Profile
from app.domain.routines.program import Finding, FromRoutine, Override, Program

router = APIRouter(prefix="/v1", tags=["programs"], route_class=StrictQueryRoute)

CHECK_EXAMPLE: JsonDict = {
    "profile": {"sensitivity": "flexion_sensitive", "minutes": 20},
    "program": {
        "blocks": [
            {
                "name": "main",
                "items": [
                    {
                        "exercise": "double-knee-to-chest",
                        "dose": {"sets": 1, "repetitions": 10, "hold_seconds": 5},
                    }
                ],
            }
        ]
    },
}


ONE_SOURCE: list[JsonValue] = [
    {"required": ["profile", "program"]},
    {"required": ["from_routine"], "not": {"required": ["program"]}},
]
"""A program with its profile, or a routine to start from: the contract says which bodies the
validator below accepts."""


class ProgramSource(BaseModel):
    """A program, whole, or a stored routine to start from with edits: one of the two."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [CHECK_EXAMPLE], "oneOf": ONE_SOURCE}
    )

    profile: Profile | None = Field(
        default=None,
        description="The person, as for POST /v1/routines. Needed with `program`; with "
        "`from_routine`, left out means the routine's own profile.",
    )
    program: Program | None = None
    from_routine: FromRoutine | None = Field(
        default=None,
        description="Start from a stored routine (its id) with edits: remove, add or replace "
        "an exercise, or change its dose, each naming the exercise by slug.",
    )

    @model_validator(mode="after")
    def _one_source(self) -> "ProgramSource":
        if (self.program is None) == (self.from_routine is None):
            raise ValueError("Send either program (with profile) or from_routine, not both.")
        if self.program is not None and self.profile is None:
            raise ValueError("A program needs the profile of the person it is for.")
        return self


class RoutineCheckRequest(ProgramSource):
    pass


class RoutineCheck(BaseModel):
    findings: list[Finding] = Field(
        description="Every finding: block first, then warn, then info; in the program's order "
        "within each."
    )
    blocking: bool = Field(description="True when any finding is a block.")


@router.post(
    "/routine-checks",
    response_model=RoutineCheck,
    summary="Check a program against the routine rules",
    description="Checks a program (blocks of exercises, each with a dose) for one person's "
    "profile by the rules generated routines follow, and stores nothing. Each finding names "
    "its rule (`GET /v1/routine-rules`), a severity (`block`: a contraindication, an emergency "
    "red flag, an exercise the person cannot get into position for; `warn`: a dose above what "
    "the sources cite, more than two nerve stretches with leg symptoms, a session longer than "
    "the phase allows, a second trip to the floor, a third variant of one stretch; `info`), a "
    "JSON Pointer to what it concerns, and the sentence shown to people. An unknown or retired "
    "exercise, a dose the exercise cannot take, an empty program or one of 50 items or more "
    "is a 422 naming each field.",
    responses=problem_responses(400, 404, 409, 410, 413, 422, 503),
)
async def check_routine(
    request: Annotated[RoutineCheckRequest, Body()], programs: ProgramsDep
) -> RoutineCheck:
    checked = await programs.check(request.profile, request.program, request.from_routine)
    return RoutineCheck(findings=checked.check.findings, blocking=checked.check.blocking)


STORE_EXAMPLE: JsonDict = {
    **CHECK_EXAMPLE,
    "overrides": [
        {
            "rule": "direction-flag",
            "pointer": "/program/blocks/0/items/0",
            "reason": "on examination, gentle knee hugs ease this person's pain",
        }
    ],
}


class ProgramRequest(ProgramSource):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [STORE_EXAMPLE], "oneOf": ONE_SOURCE}
    )

    overrides: list[Override] = Field(
        default_factory=list,
        max_length=100,
        description="A reason for each `block` finding the clinician keeps, by its rule and "
        "pointer (an emergency red flag cannot be overridden). Each must answer a finding.",
    )


class StoredProgram(RoutineCreated):
    """A program stored as a routine, as its creation returns it (GET /v1/routines/{id} returns
    it without `delete_token`, byte for byte)."""

    origin: str = Field(
        description='"clinician": built by a clinician (generated routines carry no origin).',
        examples=["clinician"],
    )
    findings: list[Finding] = Field(description="The findings of its check, as stored.")
    overrides: list[Override] = Field(description="The clinician's reason for each block kept.")
    program: Program = Field(description="The program as checked and stored.")


class ProgramRefusal(Problem):
    findings: list[Finding] = Field(
        description="Every finding of the program, as POST /v1/routine-checks gives them."
    )


@router.post(
    "/programs",
    status_code=201,
    response_model=None,
    summary="Store a program a clinician built",
    description="Checks the program as `POST /v1/routine-checks` does and stores it as a "
    'routine with `origin: "clinician"` and its `findings` (clinician key). A `block` finding '
    "refuses it (422 with every finding) unless `overrides` gives a reason for it, by its rule "
    'and pointer; the handout shows each reason ("your clinician chose this because ..."). '
    "`warn` findings are kept and shown. It gets an id, a `delete_token` (once), a handout, a "
    "FHIR PlanDefinition and feedback like a generated routine; after feedback the next "
    "routine keeps the clinician's exercises, with the doses the feedback calls for.",
    responses={
        201: {
            "model": StoredProgram,
            "description": "The stored program and its delete token; Location names it.",
            "headers": {
                "Location": location(
                    "The routine's URL.", "/v1/routines/5f0c6a4e-8a7b-4e0f-9a55-2f7f1e0c9d31"
                )
            },
        },
        **problem_responses(400, 401, 403, 404, 409, 410, 413, 503),
        422: {
            "model": ProgramRefusal,
            "description": "A block finding without an override (`findings` lists them all), "
            "an override that answers no finding, or a program that cannot be checked.",
            "content": {
                PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ProgramRefusal"}}
            },
        },
    },
)
async def store_program(
    request: Annotated[ProgramRequest, Body()], _caller: ClinicianKey, programs: ProgramsDep
) -> Response:
    created = await programs.store(
        request.profile, request.program, request.from_routine, request.overrides
    )
    return Response(
        with_delete_token(created.document_json, created.delete_token),
        201,
        {"Location": location_of(created.id)},
        media_type=JSON,
    )
