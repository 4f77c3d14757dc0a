"""Programs a clinician builds: check one against the rules routines follow.

The routes parse, call the programs service (`app/services/programs.py`) and shape its answer.
"""

from typing import Annotated

from fastapi import APIRouter, Body
from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from app.api.dependencies import ProgramsDep
from app.api.routing import StrictQueryRoute
from app.core.errors import problem_responses
from app.domain.routines import Profile
from app.domain.routines.program import Finding, Program

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


class RoutineCheckRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [CHECK_EXAMPLE]})

    profile: Profile = Field(description="The person, as for POST /v1/routines.")
    program: Program


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
    responses=problem_responses(400, 413, 422),
)
async def check_routine(
    request: Annotated[RoutineCheckRequest, Body()], programs: ProgramsDep
) -> RoutineCheck:
    check = programs.check(request.profile, request.program)
    return RoutineCheck(findings=check.findings, blocking=check.blocking)
