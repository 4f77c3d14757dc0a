"""Routines: generate and store one for a profile, read it back, report how it went.

The engine is pure, so its result for (catalogue revision, profile, seed) is memoised; every
request still stores its own snapshot row with its own id.
"""

import uuid
from collections.abc import Awaitable
from datetime import datetime
from typing import Annotated, Any, TypeVar

import orjson
from fastapi import APIRouter, Body, Depends, Header, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema
from starlette.responses import Response

from app.api.auth import AdminKey
from app.api.dependencies import (
    CatalogueDep,
    NowDep,
    PlanCacheDep,
    RoutineStoreDep,
    RoutineWriteBudget,
    runtime_of,
)
from app.api.params import JSON
from app.api.routing import StrictQueryRoute
from app.core.errors import (
    AuthenticationError,
    ConflictError,
    FieldError,
    ForbiddenError,
    GoneError,
    IdempotencyKeyReusedError,
    NotFoundError,
    problem_responses,
)
from app.core.security import (
    delete_token_for,
    generate_delete_token,
    hash_idempotency_key,
    hash_key,
)
from app.db.routine_queries import (
    Deletion,
    FeedbackExistsError,
    IdempotencyKeyTakenError,
    RoutineDeletedError,
)
from app.db.routine_store import RoutineStore
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
from app.domain.routines.profile import DEFAULT_SEED, MAXIMUM_SEED
from app.domain.routines.rules import ROUTINE_RULES, RoutineRule

router = APIRouter(prefix="/v1", tags=["routines"], route_class=StrictQueryRoute)

CREATE_SCOPE = "POST /v1/routines"

delete_token_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="RoutineDeleteToken",
    description="The `delete_token` returned once when the routine was created.",
)


class RoutineOut(RoutinePlan):
    """A stored routine: written once, never changed."""

    id: str = Field(examples=["5f0c6a4e-8a7b-4e0f-9a55-2f7f1e0c9d31"])
    created_at: datetime
    profile: Profile = Field(description="The profile as received, with the seed used.")
    previous_routine_id: str | None = Field(
        description="The routine whose feedback produced this one (it may have been deleted)."
    )
    earlier_routine_ids: list[str] = Field(
        description="The whole chain before this routine, oldest first."
    )


class RoutineCreated(RoutineOut):
    """A routine as its creation returns it: the stored routine, then its delete token."""

    delete_token: str = Field(
        description="Shown once, in this response only (only its hash is stored): send it as "
        "`Authorization: Bearer TOKEN` to `DELETE /v1/routines/{id}`. `GET /v1/routines/{id}` "
        "returns this same document without `delete_token`, byte for byte."
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
    next_routine: RoutineCreated | None = Field(
        description="The next routine, in full, with its own delete token."
    )


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


class PurgeOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "cutoff": "2025-11-29T13:45:00+00:00",
                    "retention_days": 365,
                    "purged": 42,
                    "tombstones_removed": 40,
                }
            ]
        }
    )

    cutoff: datetime = Field(description="Routines created before this were deleted.")
    retention_days: int
    purged: int = Field(description="Routines deleted by this run.")
    tombstones_removed: int = Field(
        description="Tombstones older than the cutoff that no routine or feedback names any more."
    )


RoutineId = Annotated[str, Path(max_length=36, examples=["5f0c6a4e-8a7b-4e0f-9a55-2f7f1e0c9d31"])]
IDEMPOTENCY_KEY_SCHEMA = {
    "type": "string",
    "minLength": 16,
    "maxLength": 255,
    "pattern": "^[!-~]+$",
}
IdempotencyKey = Annotated[
    str | None,
    WithJsonSchema(IDEMPOTENCY_KEY_SCHEMA),
    Header(
        min_length=16,
        max_length=255,
        pattern=r"^[!-~]+$",
        description="A unique value per routine you mean to create (a random UUID): a retry "
        "with the same key and body returns the routine the first attempt created, the same "
        "id and bytes and delete token, instead of a second routine. The same key with another "
        "body is a 409. Keys are kept (hashed) as long as the routine.",
        examples=["3f1b0c1e-4a7d-4a55-9a8e-2b5f3f0e9c77"],
    ),
]
DeleteToken = Annotated[HTTPAuthorizationCredentials | None, Depends(delete_token_bearer)]


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


def with_delete_token(document_json: bytes, token: str) -> bytes:
    """Creation's response: the stored bytes with `delete_token` added as the last member, so
    the document is serialised once and GET can return the stored bytes as they are."""
    return document_json[:-1] + b',"delete_token":' + orjson.dumps(token) + b"}"


def json_response(document: Any, status_code: int, location: str | None) -> Response:
    headers = {"Location": location} if location else None
    return Response(orjson.dumps(document), status_code, headers, media_type=JSON)


Found = TypeVar("Found")


async def stored_document(routines: RoutineStore, routine_id: str) -> dict[str, Any]:
    return await existing(routine_id, routines.document(routine_id))


async def existing(routine_id: str, lookup: Awaitable[Found | None]) -> Found:
    """What a routine lookup found: 410 for a deleted routine, 404 for an unknown one."""
    try:
        found = await lookup
    except RoutineDeletedError:
        raise GoneError(f"The routine {routine_id!r} was deleted.") from None
    if found is None:
        raise NotFoundError(f"No routine has the id {routine_id!r}.")
    return found


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
    "exclusion reason, and `frequency.rules`, names a rule listed at `/v1/routine-rules`. "
    "The response carries the routine's `delete_token`, once. Send an `Idempotency-Key` to "
    "make retries safe.",
    responses={
        201: {
            "model": RoutineCreated,
            "description": "The stored routine and its delete token; Location names it. A "
            "retry with the same Idempotency-Key answers the same, with `Idempotent-Replayed: "
            "true`.",
        },
        **problem_responses(400, 409, 413, 422, 429, 503),
    },
    dependencies=[RoutineWriteBudget],
)
async def create_routine(
    profile: Annotated[Profile, Body()],
    catalogue: CatalogueDep,
    cache: PlanCacheDep,
    routines: RoutineStoreDep,
    now: NowDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    document = new_routine(catalogue, cache, profile, now)
    body = orjson.dumps(document)
    routine_id = document["id"]
    headers = {"Location": f"/v1/routines/{routine_id}"}
    if idempotency_key is None:
        token, key_hash = generate_delete_token(), None
    else:
        token = delete_token_for(idempotency_key, routine_id)
        key_hash = hash_idempotency_key(idempotency_key, CREATE_SCOPE)
    try:
        await routines.create(
            routines.prepare(catalogue, document, body, hash_key(token), key_hash), body
        )
    except IdempotencyKeyTakenError:
        assert idempotency_key is not None
        assert key_hash is not None
        routine_id, body = await replay(routines, key_hash, document["profile"])
        token = delete_token_for(idempotency_key, routine_id)
        headers = {"Location": f"/v1/routines/{routine_id}", "Idempotent-Replayed": "true"}
    return Response(with_delete_token(body, token), 201, headers, media_type=JSON)


async def replay(
    routines: RoutineStore, key_hash: str, profile: dict[str, Any]
) -> tuple[str, bytes]:
    """The routine an earlier request with this Idempotency-Key created, if it asked for the
    same profile."""
    existing = await routines.for_idempotency_key(key_hash)
    if existing is None:
        raise ConflictError(
            "A request with this Idempotency-Key is in progress or its routine was just "
            "deleted: retry."
        )
    if orjson.loads(existing[1])["profile"] != profile:
        raise IdempotencyKeyReusedError(
            "This Idempotency-Key was used before with a different profile.",
            [
                FieldError(
                    location="header",
                    field="idempotency-key",
                    message="Used before with a different body; send a new key.",
                )
            ],
        )
    return existing


@router.get(
    "/routines/{routine_id}",
    response_model=None,
    summary="Get a stored routine",
    description="Exactly what creation returned, byte for byte, without its `delete_token`, "
    "even after the catalogue changes or an exercise is retired: a routine is a snapshot, "
    "written once. `previous_routine_id` and `earlier_routine_ids` show the chain that led to "
    "it; its feedback and the routine that followed are at `/v1/routines/{id}/feedback`. A "
    "deleted routine is a 410.",
    responses={200: {"model": RoutineOut}, **problem_responses(400, 404, 410, 422, 503)},
)
async def get_routine(routine_id: RoutineId, request: Request) -> Response:
    return Response(await stored_routine(request, routine_id), media_type=JSON)


async def stored_routine(request: Request, routine_id: str) -> bytes:
    """A stored routine's JSON, exactly as creation returned it less its delete token, from this
    process's cache or the database (404 if none, 410 if deleted).

    A hot path: the runtime is read directly, not through dependencies (which would cost more
    than the cached read itself)."""
    return await existing(routine_id, runtime_of(request).routine_store.body(routine_id))


@router.delete(
    "/routines/{routine_id}",
    status_code=204,
    response_model=None,
    summary="Delete a routine",
    description="Deletes the routine, the profile it holds and its feedback, given the "
    "`delete_token` its creation returned as `Authorization: Bearer TOKEN`. A tombstone keeps "
    "the id, so a later routine still names it as `previous_routine_id`; reading it is then a "
    "410. A missing token is a 401, a wrong one a 403, and neither changes anything.",
    responses={
        204: {"description": "Deleted."},
        **problem_responses(400, 401, 403, 404, 410, 422),
    },
)
async def delete_routine(
    routine_id: RoutineId, token: DeleteToken, routines: RoutineStoreDep
) -> Response:
    if token is None:
        raise AuthenticationError(
            "Send the routine's delete_token as `Authorization: Bearer TOKEN`."
        )
    deletion = await routines.delete(routine_id, hash_key(token.credentials))
    if deletion is Deletion.not_found:
        raise NotFoundError(f"No routine has the id {routine_id!r}.")
    if deletion is Deletion.already_deleted:
        raise GoneError(f"The routine {routine_id!r} was deleted.")
    if deletion is Deletion.refused:
        raise ForbiddenError("That is not this routine's delete token.")
    return Response(status_code=204)


@router.get(
    "/routines/{routine_id}/feedback",
    response_model=None,
    summary="Get the feedback given on a routine",
    description="How the session went, the recommendation and rule it gave, and the id of the "
    "routine generated from it. 404 until feedback is given, and after the routine is deleted.",
    responses={200: {"model": FeedbackRecord}, **problem_responses(400, 404, 422, 503)},
)
async def get_feedback(routine_id: RoutineId, routines: RoutineStoreDep) -> Response:
    recorded = await routines.feedback(routine_id)
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
    "to this one, with its own `delete_token`. New pain (none before, some after), pain rising "
    "by 3 or more, or new or worse leg symptoms mean stop_and_consult and no next routine; a "
    "rise of 1 or 2 regresses. Advance needs about a week of good sessions along the chain, and "
    "pain after below 5. A routine takes feedback once (409 after that).",
    responses={
        201: {"model": FeedbackOut},
        **problem_responses(400, 404, 409, 410, 413, 422, 429, 503),
    },
    dependencies=[RoutineWriteBudget],
)
async def give_feedback(
    routine_id: RoutineId,
    feedback: Annotated[Feedback, Body()],
    catalogue: CatalogueDep,
    cache: PlanCacheDep,
    routines: RoutineStoreDep,
    now: NowDep,
) -> Response:
    routine = await stored_document(routines, routine_id)
    if routine["outcome"] == Outcome.refer:
        raise ConflictError("This routine is a referral: follow its advice before exercising.")
    profile = Profile.model_validate(routine["profile"])
    earlier = await routines.chain_feedback(routine["earlier_routine_ids"])
    outcome = recommend(profile, feedback, [session_of(record) for record in earlier], now)
    next_routine = next_json = next_row = None
    token = generate_delete_token()
    if outcome.next_profile is not None:
        next_seed = (routine["profile"]["seed"] + 1) % (MAXIMUM_SEED + 1)
        next_profile = outcome.next_profile.model_copy(update={"seed": next_seed})
        next_routine = new_routine(catalogue, cache, next_profile, now, routine)
        next_json = orjson.dumps(next_routine)
        next_row = routines.prepare(catalogue, next_routine, next_json, hash_key(token))
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
        await routines.record_feedback(recorded, next_row, next_json)
    except FeedbackExistsError:
        raise ConflictError("This routine already has feedback.") from None
    except RoutineDeletedError:
        raise GoneError(f"The routine {routine_id!r} was deleted.") from None
    if next_routine is None:
        return json_response({**recorded, "next_routine": None}, 201, None)
    return json_response(
        {**recorded, "next_routine": {**next_routine, "delete_token": token}},
        201,
        f"/v1/routines/{next_routine['id']}",
    )


@router.post(
    "/admin/routines/purge",
    response_model=PurgeOut,
    tags=["administration"],
    summary="Delete routines past the retention period",
    description="Deletes every routine older than `ROUTINE_RETENTION_DAYS` (default 365) with "
    "its profile and feedback, as `python -m app purge-routines` does (admin key). Idempotent "
    "and safe to run from several replicas at once.",
    responses=problem_responses(400, 401, 403),
)
async def purge_routines(_caller: AdminKey, routines: RoutineStoreDep) -> PurgeOut:
    report = await routines.purge_expired()
    return PurgeOut(
        cutoff=report.cutoff,
        retention_days=routines.retention_days,
        purged=report.purged,
        tombstones_removed=report.tombstones_removed,
    )
