"""Routines: generate and store one for a profile, read it back, report how it went.

The engine is pure, so its result for (catalogue revision, profile, seed) is memoised; every
request still stores its own snapshot row with its own id.
"""

import uuid
from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Body, Path, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from app.api.dependencies import (
    CatalogueDep,
    DatabaseDep,
    NowDep,
    PlanCacheDep,
    RoutineCacheDep,
    RoutineWriteBudget,
    runtime_of,
)
from app.api.routing import StrictQueryRoute
from app.core.errors import ConflictError, NotFoundError, problem_responses
from app.db.routine_queries import (
    FeedbackExistsError,
    chain_feedback,
    feedback_document,
    insert_routine,
    record_feedback,
    routine_document,
    routine_json,
)
from app.domain.catalogue import Catalogue
from app.domain.routines import (
    RED_FLAGS,
    Feedback,
    Outcome,
    Profile,
    Recommendation,
    RedFlag,
    RoutinePlan,
    Session,
    recommend,
)
from app.domain.routines.memo import PlanCache
from app.domain.routines.profile import MAXIMUM_SEED
from app.domain.routines.rules import ROUTINE_RULES, RoutineRule

router = APIRouter(prefix="/v1", tags=["routines"], route_class=StrictQueryRoute)

JSON = "application/json"
DEFAULT_SEED = 0


class RoutineOut(RoutinePlan):
    """A stored routine: written once, never changed."""

    id: str = Field(examples=["5f0c6a4e-8a7b-4e0f-9a55-2f7f1e0c9d31"])
    created_at: datetime
    profile: Profile = Field(description="The profile as received, with the seed used.")
    previous_routine_id: str | None = Field(
        description="The routine whose feedback produced this one."
    )
    earlier_routine_ids: list[str] = Field(
        description="The whole chain before this routine, oldest first."
    )


class FeedbackRuleOut(BaseModel):
    id: str = Field(examples=["easy-without-more-pain"])
    text: str


class FeedbackRecord(Feedback):
    """Feedback on one routine, the recommendation it gave and the routine generated from it."""

    model_config = ConfigDict(extra="forbid")

    routine_id: str
    created_at: datetime
    recommendation: Recommendation
    rule: FeedbackRuleOut
    adjustment: str | None = Field(description="What changed for the next routine, in words.")
    advice: str | None = Field(
        default=None,
        description="With repeat, regress or stop_and_consult: the suggestion to work with a "
        "physical therapist (source 000).",
    )
    next_routine_id: str | None = Field(
        description="The routine generated from this feedback; null after stop_and_consult."
    )


class FeedbackOut(FeedbackRecord):
    next_routine: RoutineOut | None = Field(description="The next routine, in full.")


class RedFlagList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [RED_FLAGS[0].model_dump(mode="json")]}]}
    )

    items: list[RedFlag]


class RoutineRuleList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [ROUTINE_RULES[0].model_dump(mode="json")]}]}
    )

    items: list[RoutineRule]


ROUTINE_RULE_LIST = RoutineRuleList(items=list(ROUTINE_RULES))

RoutineId = Annotated[str, Path(max_length=36, examples=["5f0c6a4e-8a7b-4e0f-9a55-2f7f1e0c9d31"])]


def new_routine(
    catalogue: Catalogue,
    cache: PlanCache,
    profile: Profile,
    created_at: datetime,
    previous: dict[str, Any] | None = None,
) -> dict[str, Any]:
    seed = DEFAULT_SEED if profile.seed is None else profile.seed
    return {
        "id": str(uuid.uuid4()),
        "created_at": created_at.isoformat(),
        "profile": {**profile.model_dump(mode="json"), "seed": seed},
        "previous_routine_id": None if previous is None else previous["id"],
        "earlier_routine_ids": (
            [] if previous is None else [*previous["earlier_routine_ids"], previous["id"]]
        ),
        **cache.plan(catalogue, profile, seed),
    }


FEEDBACK_FIELDS = frozenset(Feedback.model_fields)


def session_of(record: dict[str, Any]) -> Session:
    """Stored feedback as the engine reads it; fields added later take their defaults."""
    return Session(
        feedback=Feedback.model_validate({k: v for k, v in record.items() if k in FEEDBACK_FIELDS}),
        recommendation=Recommendation(record["recommendation"]),
        reported_at=datetime.fromisoformat(record["created_at"]),
    )


def json_response(document: Any, status_code: int, location: str | None) -> Response:
    headers = {"Location": location} if location else None
    return Response(orjson.dumps(document), status_code, headers, media_type=JSON)


@router.get(
    "/red-flags",
    response_model=RedFlagList,
    summary="List red-flag screening questions",
    description="The questions a frontend asks before offering a routine. Any `yes` sent in a "
    "profile's `red_flags` turns the routine into a referral with advice on how urgently to "
    "seek care, and no exercises.",
    responses=problem_responses(400),
)
async def list_red_flags() -> RedFlagList:
    return RedFlagList(items=list(RED_FLAGS))


@router.get(
    "/routine-rules",
    response_model=RoutineRuleList,
    summary="List the rules behind routines",
    description="Every rule the engine, the red flags and the feedback apply: a stable `id`, "
    "the sentence shown to people, the reason `code` it appears under in a routine, and its "
    "`basis`: `source` with the words quoted from each source (`quotes`), or `design_choice` "
    "with `why` (not a source fact). Item reasons, exclusion reasons, `frequency.rules` and "
    "feedback rules name these ids.",
    responses=problem_responses(400),
)
async def list_routine_rules() -> RoutineRuleList:
    return ROUTINE_RULE_LIST


@router.post(
    "/routines",
    status_code=201,
    response_model=None,
    summary="Generate a routine",
    description="Generates and stores a routine for one person's profile. The same catalogue, "
    "profile and seed always give the same routine; omit `seed` for the standard routine of a "
    "profile (seed 0) or pass one for a variation. Any red flag gives outcome `refer` and no "
    "exercises. A profile nothing fits gives a routine with no items and an `explanation`; one "
    "that fills less than 80% of the session says what would fill it (`fill_suggestions`). In "
    "the acute phase a session is at most 15 minutes (`session_minutes`). Every item and "
    "exclusion reason, and `frequency.rules`, names a rule listed at `/v1/routine-rules`.",
    responses={
        201: {"model": RoutineOut, "description": "The stored routine; Location names it."},
        **problem_responses(400, 413, 422, 429),
    },
    dependencies=[RoutineWriteBudget],
)
async def create_routine(
    profile: Annotated[Profile, Body()],
    catalogue: CatalogueDep,
    cache: PlanCacheDep,
    database: DatabaseDep,
    stored: RoutineCacheDep,
    now: NowDep,
) -> Response:
    document = new_routine(catalogue, cache, profile, now)
    body = orjson.dumps(document)
    await database.transaction(lambda connection: insert_routine(connection, document, body))
    stored.put(document["id"], body)
    return Response(body, 201, {"Location": f"/v1/routines/{document['id']}"}, media_type=JSON)


@router.get(
    "/routines/{routine_id}",
    response_model=None,
    summary="Get a stored routine",
    description="Exactly what creation returned, even after the catalogue changes or an "
    "exercise is retired: a routine is a snapshot, written once. `previous_routine_id` and "
    "`earlier_routine_ids` show the chain that led to it; its feedback and the routine that "
    "followed are at `/v1/routines/{id}/feedback`.",
    responses={200: {"model": RoutineOut}, **problem_responses(400, 404, 422)},
)
async def get_routine(routine_id: RoutineId, request: Request) -> Response:
    return Response(await stored_routine(request, routine_id), media_type=JSON)


async def stored_routine(request: Request, routine_id: str) -> bytes:
    """A stored routine's JSON, from this process's cache or the database (404 if none).

    A hot path: the runtime is read directly, not through dependencies (which would cost more
    than the cached read itself)."""
    runtime = runtime_of(request)
    stored = runtime.routine_cache
    document = stored.get(routine_id)
    if document is None:
        document = await runtime.database.read(lambda c: routine_json(c, routine_id))
        if document is None:
            raise NotFoundError(f"No routine has the id {routine_id!r}.")
        stored.put(routine_id, document)
    return document


@router.get(
    "/routines/{routine_id}/feedback",
    response_model=None,
    summary="Get the feedback given on a routine",
    description="How the session went, the recommendation and rule it gave, and the id of the "
    "routine generated from it. 404 until feedback is given.",
    responses={200: {"model": FeedbackRecord}, **problem_responses(400, 404, 422)},
)
async def get_feedback(routine_id: RoutineId, database: DatabaseDep) -> Response:
    recorded = await database.read(lambda c: feedback_document(c, routine_id))
    if recorded is None:
        raise NotFoundError(f"No feedback has been given on the routine {routine_id!r}.")
    return json_response(recorded, 200, None)


@router.post(
    "/routines/{routine_id}/feedback",
    status_code=201,
    response_model=None,
    summary="Report how a routine went",
    description="Gives a recommendation (advance, repeat, regress or stop_and_consult) with the "
    "rule behind it and, unless told to stop, the next routine generated accordingly and linked "
    "to this one. New pain (none before, some after), pain rising by 3 or more, or new or "
    "worse leg symptoms mean stop_and_consult and no next routine; a rise of 1 or 2 regresses. "
    "Advance needs about a week of good sessions along the chain, and pain after below 5. A "
    "routine takes feedback once (409 after that).",
    responses={
        201: {"model": FeedbackOut},
        **problem_responses(400, 404, 409, 413, 422, 429),
    },
    dependencies=[RoutineWriteBudget],
)
async def give_feedback(
    routine_id: RoutineId,
    feedback: Annotated[Feedback, Body()],
    catalogue: CatalogueDep,
    cache: PlanCacheDep,
    database: DatabaseDep,
    stored: RoutineCacheDep,
    now: NowDep,
) -> Response:
    routine = await database.read(lambda c: routine_document(c, routine_id))
    if routine is None:
        raise NotFoundError(f"No routine has the id {routine_id!r}.")
    if routine["outcome"] == Outcome.refer:
        raise ConflictError("This routine is a referral: follow its advice before exercising.")
    profile = Profile.model_validate(routine["profile"])
    earlier = await database.read(lambda c: chain_feedback(c, routine["earlier_routine_ids"]))
    outcome = recommend(profile, feedback, [session_of(record) for record in earlier], now)
    next_routine = None
    if outcome.next_profile is not None:
        next_seed = (routine["profile"]["seed"] + 1) % (MAXIMUM_SEED + 1)
        next_profile = outcome.next_profile.model_copy(update={"seed": next_seed})
        next_routine = new_routine(catalogue, cache, next_profile, now, routine)
    recorded = {
        "routine_id": routine_id,
        **feedback.model_dump(mode="json"),
        "created_at": now.isoformat(),
        "recommendation": outcome.recommendation.value,
        "rule": {"id": outcome.rule_id.value, "text": outcome.rule},
        "adjustment": outcome.adjustment,
        "advice": outcome.advice,
        "next_routine_id": None if next_routine is None else next_routine["id"],
    }
    try:
        await database.transaction(lambda c: record_feedback(c, recorded, next_routine))
    except FeedbackExistsError:
        raise ConflictError("This routine already has feedback.") from None
    if next_routine is not None:
        stored.put(next_routine["id"], orjson.dumps(next_routine))
    location = f"/v1/routines/{next_routine['id']}" if next_routine else None
    return json_response({**recorded, "next_routine": next_routine}, 201, location)
