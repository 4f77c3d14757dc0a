"""Routines: generate and store one for a profile, read it back, report how it went.

The routes parse, call the routines service (`app/services/routines.py`) and shape its answer:
the response bytes, `Location`, the status.
"""

import re
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Body, Depends, Header, Path, Query, Request
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema
from starlette.responses import Response

from app.api.auth import AdminKey
from app.api.dependencies import (
    CursorsDep,
    RoutinesDep,
    RoutineWriteBudget,
    runtime_of,
    spend_routine_write,
)
from app.api.params import JSON, CursorQuery
from app.api.response_headers import IDEMPOTENT_REPLAYED, RATE_LIMIT_HEADERS, location, next_link
from app.api.routing import StrictQueryRoute, answers_well_formed
from app.api.schemas import CURSOR_EXAMPLE
from app.core import cursors
from app.core.errors import answer_headers, problem_responses
from app.domain.routines import (
    RED_FLAGS,
    Exclusion,
    Feedback,
    Profile,
    Recommendation,
    RedFlag,
    RoutinePlan,
    Urgency,
)
from app.domain.routines.rules import ROUTINE_RULES, RoutineRule
from app.domain.schema_config import ALWAYS_PRESENT
from app.domain.timestamps import UtcTimestamp

router = APIRouter(prefix="/v1", tags=["routines"], route_class=StrictQueryRoute)

delete_token_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="RoutineDeleteToken",
    description="The `delete_token` returned once when the routine was created: it deletes the "
    "routine and gives its feedback.",
)


class RoutineProfile(Profile):
    """A routine's profile: every field, defaults included, and the seed used."""

    model_config = ALWAYS_PRESENT


class RoutineOut(RoutinePlan):
    """A stored routine: written once, never changed."""

    id: str = Field(examples=["5f0c6a4e-8a7b-4e0f-9a55-2f7f1e0c9d31"])
    created_at: UtcTimestamp
    profile: RoutineProfile = Field(description="The profile as received, with the seed used.")
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
        "`Authorization: Bearer TOKEN` to `DELETE /v1/routines/{id}` and to "
        "`POST /v1/routines/{id}/feedback`. `GET /v1/routines/{id}` "
        "returns this same document without `delete_token`, byte for byte."
    )


class FeedbackRuleOut(BaseModel):
    id: str = Field(examples=["easy-without-more-pain"])
    text: str


class FeedbackRecord(Feedback):
    """Feedback on one routine, the recommendation it gave and the routine generated from it."""

    model_config = ConfigDict(extra="forbid", **ALWAYS_PRESENT)

    routine_id: str
    created_at: UtcTimestamp
    recommendation: Recommendation
    rule: FeedbackRuleOut
    adjustment: str | None = Field(description="What changed for the next routine, in words.")
    advice: str | None = Field(
        default=None,
        description="With repeat, regress or stop_and_consult: the suggestion to work with a "
        "physical therapist (source 000). With any recommendation, when the pain after this "
        "session is no lower than before the chain's first, two weeks or more after it: "
        "source 000's advice to make an appointment with a primary care physician, first.",
    )
    urgency: Urgency | None = Field(
        default=None,
        description="How soon to seek care when the feedback reports a symptom the red-flag "
        "list treats as an emergency (new or worse leg weakness, saddle numbness); null "
        "otherwise.",
    )
    next_routine_id: str | None = Field(
        description="The routine generated from this feedback; null after stop_and_consult."
    )


class FeedbackOut(FeedbackRecord):
    next_routine: RoutineCreated | None = Field(
        description="The next routine, in full, with its own delete token."
    )


class ExclusionPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "slug": "bird-dog",
                            "name": "Bird dog",
                            "reasons": [
                                {
                                    "code": "time",
                                    "rule": "time",
                                    "detail": "It suits you but did not fit in the time asked.",
                                }
                            ],
                        }
                    ],
                    "next_cursor": None,
                }
            ]
        }
    )

    items: list[Exclusion]
    next_cursor: str | None = Field(
        description="Opaque; pass it back as `cursor` for the next page. Null on the last page."
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
                    "cutoff": "2025-11-29T13:45:00.000000Z",
                    "retention_days": 365,
                    "purged": 42,
                    "tombstones_removed": 40,
                }
            ]
        }
    )

    cutoff: UtcTimestamp = Field(description="Routines created before this were deleted.")
    retention_days: int
    purged: int = Field(description="Routines deleted by this run.")
    tombstones_removed: int = Field(
        description="Tombstones older than the cutoff that no routine or feedback names any more."
    )


RoutineId = Annotated[str, Path(max_length=36, examples=["5f0c6a4e-8a7b-4e0f-9a55-2f7f1e0c9d31"])]
IDEMPOTENCY_KEY_LENGTHS = (16, 255)
IDEMPOTENCY_KEY_PATTERN = re.compile(r"^[!-~]+$")
IDEMPOTENCY_KEY_SCHEMA = {
    "type": "string",
    "minLength": IDEMPOTENCY_KEY_LENGTHS[0],
    "maxLength": IDEMPOTENCY_KEY_LENGTHS[1],
    "pattern": IDEMPOTENCY_KEY_PATTERN.pattern,
}
IdempotencyKey = Annotated[
    str | None,
    WithJsonSchema(IDEMPOTENCY_KEY_SCHEMA),
    Header(
        min_length=IDEMPOTENCY_KEY_LENGTHS[0],
        max_length=IDEMPOTENCY_KEY_LENGTHS[1],
        pattern=IDEMPOTENCY_KEY_PATTERN.pattern,
        description="A unique value per routine you mean to create (a random UUID): a retry "
        "with the same key and body returns the routine the first attempt created, the same "
        "id and bytes and delete token, instead of a second routine. The same key with another "
        "body is a 409. Keys are kept (hashed) as long as the routine.",
        examples=["3f1b0c1e-4a7d-4a55-9a8e-2b5f3f0e9c77"],
    ),
]
FeedbackIdempotencyKey = Annotated[
    str | None,
    WithJsonSchema(IDEMPOTENCY_KEY_SCHEMA),
    Header(
        min_length=IDEMPOTENCY_KEY_LENGTHS[0],
        max_length=IDEMPOTENCY_KEY_LENGTHS[1],
        pattern=IDEMPOTENCY_KEY_PATTERN.pattern,
        description="A unique value per feedback you give (a random UUID): a retry with the same "
        "key and body returns the first answer again, the next routine's id, bytes and delete "
        "token included, instead of a 409. The same key with other feedback is a 409. Kept "
        "(hashed) as long as the routine.",
        examples=["9d2f5b7a-1c3e-4f60-8a9b-0c1d2e3f4a5b"],
    ),
]
EXCLUDED_NEXT_LINK = next_link(
    f"/v1/routines/5f0c6a4e-8a7b-4e0f-9a55-2f7f1e0c9d31/excluded?limit=20&cursor={CURSOR_EXAMPLE}"
)
DeleteToken = Annotated[HTTPAuthorizationCredentials | None, Depends(delete_token_bearer)]


def with_delete_token(document_json: bytes, token: str) -> bytes:
    """Creation's response: the stored bytes with `delete_token` added as the last member, so
    the document is serialised once and GET can return the stored bytes as they are."""
    return b"".join(
        (memoryview(document_json)[:-1], b',"delete_token":', orjson.dumps(token), b"}")
    )


def well_formed_idempotency_key(key: str) -> bool:
    """Whether `IdempotencyKey`'s declaration accepts `key`."""
    shortest, longest = IDEMPOTENCY_KEY_LENGTHS
    return shortest <= len(key) <= longest and IDEMPOTENCY_KEY_PATTERN.fullmatch(key) is not None


async def create_well_formed(route: APIRoute, request: Request) -> Response | None:
    """`create_routine` for a request FastAPI would pass as it is (a well-formed
    Idempotency-Key or none, a body the route's `Profile` field validates), past FastAPI's
    dependency solving: the same budget spent (`RoutineWriteBudget`) and the same endpoint.
    Anything else (None) goes through FastAPI, which says what is wrong."""
    key = request.headers.get("idempotency-key")
    if key is not None and not well_formed_idempotency_key(key):
        return None
    document = getattr(request, "_json", None)  # the body, parsed once by the route's checks
    if document is None or route.body_field is None:
        return None
    profile, errors = route.body_field.validate(document, {}, loc=("body",))
    if errors:
        return None
    await spend_routine_write(request)
    return await create_routine(profile, request, key)


def json_response(document: Any, status_code: int, location: str | None) -> Response:
    headers = {"Location": location} if location else None
    return Response(orjson.dumps(document), status_code, headers, media_type=JSON)


def location_of(routine_id: str) -> str:
    return f"/v1/routines/{routine_id}"


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
            "headers": {
                "Location": location(
                    "The routine's URL.", "/v1/routines/5f0c6a4e-8a7b-4e0f-9a55-2f7f1e0c9d31"
                ),
                "Idempotent-Replayed": IDEMPOTENT_REPLAYED,
                **RATE_LIMIT_HEADERS,
            },
        },
        **problem_responses(400, 409, 413, 422, 429, 503),
    },
    dependencies=[RoutineWriteBudget],
)
@answers_well_formed(create_well_formed)
async def create_routine(
    profile: Annotated[Profile, Body()],
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    # A hot path: the service is read from the runtime directly, as `stored_routine` does.
    created = await runtime_of(request).routines.create(profile, idempotency_key)
    headers = {**answer_headers(request), "Location": location_of(created.id)}
    if created.replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(
        with_delete_token(created.document_json, created.delete_token),
        201,
        headers,
        media_type=JSON,
    )


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
    """A stored routine's JSON, exactly as creation returned it less its delete token (404 if
    none, 410 if deleted).

    A hot path: the runtime is read directly, not through dependencies (which would cost more
    than the cached read itself)."""
    return await runtime_of(request).routines.body(routine_id)


@router.get(
    "/routines/{routine_id}/excluded",
    response_model=None,
    summary="List every exercise a routine leaves out",
    description="Every exercise of the catalogue the routine does not hold, in slug order, each "
    "with every reason it is left out (the rules at `/v1/routine-rules`); the routine itself "
    "lists only the nearest few (`excluded`) and counts the rest (`excluded_summary`). Computed "
    "on demand from the routine's profile and seed on the catalogue it was generated from: "
    "after the catalogue changes the list can no longer be computed (409). A referral, or a "
    "program a clinician made, leaves nothing out. Pages with `limit` (1-100) and "
    '`next_cursor`, also sent as a `Link: rel="next"` header.',
    responses={
        200: {"model": ExclusionPage, "headers": {"Link": EXCLUDED_NEXT_LINK}},
        **problem_responses(400, 404, 409, 410, 422, 503),
    },
)
async def list_excluded(
    routine_id: RoutineId,
    request: Request,
    routines: RoutinesDep,
    signer: CursorsDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: CursorQuery = None,
) -> Response:
    scope = cursors.scope_of({"routine_id": routine_id})
    after = signer.read(cursor, scope, cursors.slug_position) if cursor else None
    items, next_after = await routines.excluded(routine_id, after, limit)
    next_cursor = None if next_after is None else signer.issue(next_after, scope)
    headers = None
    if next_cursor is not None:
        next_url = request.url.include_query_params(cursor=next_cursor)
        headers = {"Link": f'<{next_url}>; rel="next"'}
    return Response(
        orjson.dumps({"items": items, "next_cursor": next_cursor}), 200, headers, media_type=JSON
    )


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
    routine_id: RoutineId, token: DeleteToken, routines: RoutinesDep
) -> Response:
    await routines.delete(routine_id, None if token is None else token.credentials)
    return Response(status_code=204)


@router.get(
    "/routines/{routine_id}/feedback",
    response_model=None,
    summary="Get the feedback given on a routine",
    description="How the session went, the recommendation and rule it gave, and the id of the "
    "routine generated from it. 404 until feedback is given; 410 once the routine is deleted.",
    responses={200: {"model": FeedbackRecord}, **problem_responses(400, 404, 410, 422, 503)},
)
async def get_feedback(routine_id: RoutineId, routines: RoutinesDep) -> Response:
    return json_response(await routines.feedback(routine_id), 200, None)


@router.post(
    "/routines/{routine_id}/feedback",
    status_code=201,
    response_model=None,
    summary="Report how a routine went",
    description="Gives a recommendation (advance, repeat, regress or stop_and_consult) with the "
    "rule behind it and, unless told to stop, the next routine generated accordingly and linked "
    "to this one, with its own `delete_token`. New pain (none before, some after), pain rising "
    "by 3 or more, pain rising in two sessions in a row or by 3 or more added up over the "
    "chain, or new or worse leg symptoms mean stop_and_consult and no next routine (new or "
    "worse leg weakness and saddle numbness with `urgency` emergency); a rise of 1 or 2 "
    "regresses. Regress and repeat never lengthen the session, advance adds at most 5 "
    "minutes (leaving the acute phase too), and the acute phase never advances beyond "
    "intermediate. Advance needs about a week of good sessions along the chain, and pain "
    "after below 5. Pain no lower than at the chain's start after two weeks adds the advice to "
    "make an appointment. A routine takes feedback once (409 after that). Only the person "
    "holding the routine's `delete_token` may give it, as `Authorization: Bearer TOKEN` (401 "
    "without it, 403 for another token): the routine's id, printed on its handout, only "
    "reads. Send an `Idempotency-Key` to make retries safe: a retry gets the first answer "
    "again.",
    responses={
        201: {
            "model": FeedbackOut,
            "description": "The feedback as recorded and the next routine, with its delete "
            "token. A retry with the same Idempotency-Key answers the same, with "
            "`Idempotent-Replayed: true`.",
            "headers": {
                "Location": location(
                    "The next routine's URL; absent after stop_and_consult (no next routine).",
                    "/v1/routines/9b2e7c1d-3f4a-4b8e-8c6d-1a2b3c4d5e6f",
                    required=False,
                ),
                "Idempotent-Replayed": IDEMPOTENT_REPLAYED,
                **RATE_LIMIT_HEADERS,
            },
        },
        **problem_responses(400, 401, 403, 404, 409, 410, 413, 422, 429, 503),
    },
    dependencies=[RoutineWriteBudget],
)
async def give_feedback(
    routine_id: RoutineId,
    feedback: Annotated[Feedback, Body()],
    token: DeleteToken,
    routines: RoutinesDep,
    request: Request,
    idempotency_key: FeedbackIdempotencyKey = None,
) -> Response:
    given = await routines.give_feedback(
        routine_id, feedback, None if token is None else token.credentials, idempotency_key
    )
    next_routine = None
    next_location = None
    if given.next_routine is not None:
        next_routine = {**given.next_routine, "delete_token": given.next_delete_token}
        next_location = location_of(given.next_routine["id"])
    response = json_response({**given.recorded, "next_routine": next_routine}, 201, next_location)
    response.headers.update(answer_headers(request))
    if given.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


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
async def purge_routines(_caller: AdminKey, routines: RoutinesDep) -> PurgeOut:
    report = await routines.purge_expired()
    return PurgeOut(
        cutoff=report.cutoff,
        retention_days=routines.retention_days,
        purged=report.purged,
        tombstones_removed=report.tombstones_removed,
    )
