"""Routines and their feedback, for the JSON API, the handout, the FHIR facade and the CLI.

Generate and store a routine for a profile (replaying an Idempotency-Key's routine), read one
back, record feedback with the routine it leads to, delete one with its token, purge those past
retention. The engine is pure, so its result for (catalogue revision, profile, seed) is memoised;
every routine created still stores its own snapshot row with its own id. Errors are the domain's
(404, 409, 410...); the web layer parses, calls and shapes the response.
"""

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import anyio.to_thread
import orjson

from app.core.errors import (
    AuthenticationError,
    ConflictError,
    FieldError,
    ForbiddenError,
    GoneError,
    IdempotencyKeyReusedError,
    NotFoundError,
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
    PurgeReport,
    RoutineDeletedError,
)
from app.db.routine_store import RoutineStore
from app.db.session import Database, DatabaseUnavailableError
from app.domain.catalogue import Catalogue
from app.domain.routines import Feedback, Outcome, Profile, Recommendation, Session, recommend
from app.domain.routines.checker import check_program
from app.domain.routines.engine import all_exclusions
from app.domain.routines.feedback import PAIN_GONE, FeedbackOutcome
from app.domain.routines.memo import GeneratedPlan, PlanCache, generated_plan, plan_key
from app.domain.routines.profile import DEFAULT_SEED, MAXIMUM_SEED
from app.domain.routines.program import Override, Program
from app.domain.routines.program_plan import (
    PROGRAM_ORIGIN,
    adjusted_program,
    kept_overrides,
    program_document,
    published_program,
)
from app.domain.timestamps import rfc3339

__all__ = ["CreatedRoutine", "FeedbackGiven", "PurgeReport", "Routines"]

CREATE_SCOPE = "POST /v1/routines"
FEEDBACK_SCOPE = "POST /v1/routines/{routine_id}/feedback"
FEEDBACK_FIELDS = frozenset(Feedback.model_fields)
RECORD_DEFAULTS: dict[str, Any] = {
    **{
        name: field.get_default(call_default_factory=True)
        for name, field in Feedback.model_fields.items()
        if not field.is_required()
    },
    "urgency": None,
}
"""What a feedback record stored before a field existed answers for it."""

Found = TypeVar("Found")
Result = TypeVar("Result")


def utc_now() -> datetime:
    return datetime.now(UTC)


def no_catalogue() -> Catalogue:
    raise DatabaseUnavailableError("No catalogue is loaded here.")


@dataclass(frozen=True)
class CreatedRoutine:
    """A routine as its creation answers it: `document_json` is what GET returns (without the
    delete token); `replayed` when an earlier request with the same Idempotency-Key made it."""

    id: str
    document_json: bytes
    delete_token: str
    replayed: bool = False


@dataclass(frozen=True)
class FeedbackGiven:
    """The feedback as recorded, and the routine generated from it (None after
    stop_and_consult) with that routine's delete token."""

    recorded: dict[str, Any]
    next_routine: dict[str, Any] | None
    next_delete_token: str
    replayed: bool = False


def seed_of(profile: Profile) -> int:
    return DEFAULT_SEED if profile.seed is None else profile.seed


async def off_the_loop(work: Callable[..., Result], *arguments: object) -> Result:
    """Run engine work in the thread pool: a large catalogue must never stall the event loop."""
    return await anyio.to_thread.run_sync(work, *arguments)


def routine_profile(profile: Profile) -> dict[str, Any]:
    """A routine's `profile` member: every field, defaults included, and the seed used."""
    return {**profile.model_dump(mode="json"), "seed": seed_of(profile)}


def new_routine(
    plan: GeneratedPlan,
    profile: dict[str, Any],
    created_at: datetime,
    previous: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], bytes]:
    """A routine document and its bytes: `plan` (the engine's output) with its id, time,
    profile (`routine_profile`) and chain first. Only those few members are serialised here:
    the plan's bytes, made once when it was generated, follow them as they are (the same bytes
    as serialising the whole document)."""
    head = {
        "id": str(uuid.uuid4()),
        "created_at": rfc3339(created_at),
        "profile": profile,
        "previous_routine_id": None if previous is None else previous["id"],
        "earlier_routine_ids": (
            [] if previous is None else [*previous["earlier_routine_ids"], previous["id"]]
        ),
    }
    document_json = b"".join((orjson.dumps(head)[:-1], b",", memoryview(plan.json)[1:]))
    return {**head, **plan.data}, document_json


def next_program(
    catalogue: Catalogue, routine: dict[str, Any], outcome: FeedbackOutcome, now: datetime
) -> tuple[dict[str, Any] | None, str]:
    """After feedback on a clinician's program: the same exercises with the doses the
    recommendation calls for, checked again (rule `program-follows-feedback`). The person's
    level and minutes stay the clinician's; a phase the feedback moves on moves. An exercise
    no longer published is left out, and the adjustment says so."""
    assert outcome.next_profile is not None
    profile = Profile.model_validate(routine["profile"])
    program, dropped = published_program(catalogue, Program.model_validate(routine["program"]))
    gone = f" No longer in the catalogue, so left out: {', '.join(dropped)}." if dropped else ""
    if program is None:
        return None, "None of your clinician's exercises is in the catalogue any more." + gone
    adjusted, words = adjusted_program(
        check_program(catalogue, profile, program), program, outcome.recommendation, profile
    )
    next_profile = profile.model_copy(update={"phase": outcome.next_profile.phase})
    check = check_program(catalogue, next_profile, adjusted)
    overrides = [Override.model_validate(override) for override in routine["overrides"]]
    document = program_document(
        catalogue,
        next_profile,
        adjusted,
        check,
        kept_overrides(check.findings, overrides),
        routine_id=str(uuid.uuid4()),
        created_at=rfc3339(now),
        previous=routine,
    )
    return document, words + gone


def phase_change(outcome: FeedbackOutcome) -> str | None:
    """What feedback changes of a program besides its doses: the phase, once the pain is gone."""
    adjustment = outcome.adjustment or ""
    return PAIN_GONE if PAIN_GONE in adjustment else None


def session_of(record: dict[str, Any]) -> Session:
    """Stored feedback as the engine reads it; fields added later take their defaults."""
    return Session(
        feedback=Feedback.model_validate({k: v for k, v in record.items() if k in FEEDBACK_FIELDS}),
        recommendation=Recommendation(record["recommendation"]),
        reported_at=datetime.fromisoformat(record["created_at"]),
    )


def presented(delete_token: str | None) -> str:
    """The token a request presents; 401 when it presents none."""
    if delete_token is None:
        raise AuthenticationError(
            "Send the routine's delete_token as `Authorization: Bearer TOKEN`."
        )
    return delete_token


def refuse(routine_id: str, refusal: Deletion | None) -> None:
    """Raise what a token refusal (or a deletion's outcome) answers; nothing when it went."""
    if refusal is Deletion.not_found:
        raise NotFoundError(f"No routine has the id {routine_id!r}.")
    if refusal is Deletion.already_deleted:
        raise GoneError(f"The routine {routine_id!r} was deleted.")
    if refusal is Deletion.refused:
        raise ForbiddenError("That is not this routine's delete token.")


def key_reused(detail: str) -> IdempotencyKeyReusedError:
    return IdempotencyKeyReusedError(
        detail,
        [
            FieldError(
                location="header",
                field="idempotency-key",
                message="Used before with a different body; send a new key.",
            )
        ],
    )


async def existing(routine_id: str, lookup: Awaitable[Found | None]) -> Found:
    """What a routine lookup found: 410 for a deleted routine, 404 for an unknown one."""
    try:
        found = await lookup
    except RoutineDeletedError:
        raise GoneError(f"The routine {routine_id!r} was deleted.") from None
    if found is None:
        raise NotFoundError(f"No routine has the id {routine_id!r}.")
    return found


class Routines:
    def __init__(
        self,
        store: RoutineStore,
        catalogue: Callable[[], Catalogue],
        plan_cache: PlanCache,
        clock: Callable[[], datetime],
    ) -> None:
        """`catalogue` gives the current snapshot (503 until there is one); `clock` the time of
        a request, in UTC."""
        self.store = store
        self._catalogue = catalogue
        self._plan_cache = plan_cache
        self._clock = clock

    @classmethod
    def for_maintenance(
        cls, database: Database, retention_days: int, purge_batch_size: int
    ) -> "Routines":
        """The service as the command line uses it, to purge: with no catalogue loaded, creating
        a routine or giving feedback would answer 503."""
        store = RoutineStore(database, retention_days, purge_batch_size=purge_batch_size)
        return cls(store, no_catalogue, PlanCache(), utc_now)

    def now(self) -> datetime:
        """The time of a request, in UTC."""
        return self._clock()

    @property
    def retention_days(self) -> int:
        return self.store.retention_days

    async def create(self, profile: Profile, idempotency_key: str | None) -> CreatedRoutine:
        """Store a new routine for `profile`. With an Idempotency-Key already used for the same
        profile, the routine that first request created instead (409 for another profile)."""
        catalogue = self._catalogue()
        profile_member = routine_profile(profile)
        plan = await self._plan(catalogue, profile, profile_member)
        document, body = new_routine(plan, profile_member, self._clock())
        routine_id = document["id"]
        if idempotency_key is None:
            token, key_hash = generate_delete_token(), None
        else:
            token = delete_token_for(idempotency_key, routine_id)
            key_hash = hash_idempotency_key(idempotency_key, CREATE_SCOPE)
        store = self.store
        try:
            await store.create(store.prepare(catalogue, document, body, hash_key(token), key_hash))
        except IdempotencyKeyTakenError:
            assert idempotency_key is not None
            assert key_hash is not None
            routine_id, body = await self._replay(key_hash, document["profile"])
            token = delete_token_for(idempotency_key, routine_id)
            return CreatedRoutine(routine_id, body, token, replayed=True)
        return CreatedRoutine(routine_id, body, token)

    async def _plan(
        self, catalogue: Catalogue, profile: Profile, profile_member: dict[str, Any]
    ) -> GeneratedPlan:
        """The engine's routine for `profile` (`profile_member` is its `routine_profile`):
        memoised, else generated in the thread pool."""
        key = plan_key(catalogue, orjson.dumps(profile_member))
        plan = self._plan_cache.get(key)
        if plan is None:
            plan = await off_the_loop(generated_plan, catalogue, profile, seed_of(profile))
            self._plan_cache.put(key, plan)
        return plan

    async def excluded(
        self, routine_id: str, after_slug: str | None, limit: int
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Every exercise a stored routine leaves out, with its reasons, in slug order: one page
        after `after_slug`, and the slug the next page starts after (None on the last). Computed
        from the routine's profile and seed on the catalogue it was generated from: 409 once the
        catalogue has changed since (its own `excluded` and `excluded_summary` stay)."""
        catalogue = self._catalogue()
        routine = await existing(routine_id, self.store.document(routine_id))
        if routine.get("origin") == PROGRAM_ORIGIN:
            return [], None  # a clinician's program: chosen by hand, nothing left out
        generated_at = routine["catalogue_revision"]
        if generated_at != catalogue.revision:
            raise ConflictError(
                f"The catalogue has changed since this routine was generated (revision "
                f"{generated_at}, now {catalogue.revision}), so its full list of exclusions can "
                "no longer be computed; the routine's own excluded and excluded_summary stand."
            )
        profile = Profile.model_validate(routine["profile"])
        page, next_after = await off_the_loop(
            all_exclusions, catalogue, profile, routine["seed"], after_slug, limit
        )
        return [exclusion.model_dump(mode="json") for exclusion in page], next_after

    async def _replay(self, key_hash: str, profile: dict[str, Any]) -> tuple[str, bytes]:
        """The routine an earlier request with this Idempotency-Key created, if it asked for the
        same profile."""
        earlier = await self.store.for_idempotency_key(key_hash)
        if earlier is None:
            raise ConflictError(
                "A request with this Idempotency-Key is in progress or its routine was just "
                "deleted: retry."
            )
        if orjson.loads(earlier[1])["profile"] != profile:
            raise key_reused("This Idempotency-Key was used before with a different profile.")
        return earlier

    async def body(self, routine_id: str) -> bytes:
        """A stored routine's JSON, exactly as creation returned it less its delete token, from
        this process's cache or the database (404 if none, 410 if deleted)."""
        return await existing(routine_id, self.store.body(routine_id))

    async def delete(self, routine_id: str, delete_token: str | None) -> None:
        """Delete a routine given its delete token: 401 without one, 403 for a wrong one."""
        deletion = await self.store.delete(routine_id, hash_key(presented(delete_token)))
        refuse(routine_id, deletion)

    async def check_token(self, routine_id: str, delete_token: str | None) -> None:
        """Let only the holder of the routine's delete token act on it: 401 without a token,
        403 for a wrong one, 404 or 410 for an unknown or deleted routine."""
        token_hash = hash_key(presented(delete_token))
        refuse(routine_id, await self.store.token_refusal(routine_id, token_hash))

    async def feedback(self, routine_id: str) -> dict[str, Any]:
        """The feedback given on a routine: 404 until there is some or for an unknown routine,
        410 once the routine is deleted (its feedback went with it)."""
        recorded = await self.store.feedback(routine_id)
        if recorded is None:
            await existing(routine_id, self.store.document(routine_id))
            raise NotFoundError(f"No feedback has been given on the routine {routine_id!r}.")
        return {**RECORD_DEFAULTS, **recorded}

    async def give_feedback(
        self,
        routine_id: str,
        feedback: Feedback,
        delete_token: str | None,
        idempotency_key: str | None = None,
    ) -> FeedbackGiven:
        """Recommend from this session and the chain's earlier ones, record it, and store the
        next routine it calls for (none after stop_and_consult). Only the holder of the
        routine's delete token may (401, 403); 409 for a referral or a routine that already has
        feedback, 410 once deleted. A retry with the Idempotency-Key the feedback was given
        with, and the same feedback, gets the same answer again: the next routine's delete
        token is derived from the key, as at creation."""
        catalogue = self._catalogue()
        await self.check_token(routine_id, delete_token)
        now = self._clock()
        routine = await existing(routine_id, self.store.document(routine_id))
        if routine["outcome"] == Outcome.refer:
            raise ConflictError("This routine is a referral: follow its advice before exercising.")
        profile = Profile.model_validate(routine["profile"])
        earlier = await self.store.chain_feedback(routine["earlier_routine_ids"])
        outcome = recommend(profile, feedback, [session_of(record) for record in earlier], now)
        next_routine = next_row = None
        next_json: bytes | None = None
        adjustment = outcome.adjustment
        token = generate_delete_token()
        if outcome.next_profile is not None and routine.get("origin") == PROGRAM_ORIGIN:
            next_routine, program_adjustment = next_program(catalogue, routine, outcome, now)
            adjustment = " ".join(filter(None, [program_adjustment, phase_change(outcome)]))
        elif outcome.next_profile is not None:
            next_seed = (routine["profile"]["seed"] + 1) % (MAXIMUM_SEED + 1)
            next_profile = outcome.next_profile.model_copy(update={"seed": next_seed})
            next_member = routine_profile(next_profile)
            plan = await self._plan(catalogue, next_profile, next_member)
            next_routine, next_json = new_routine(plan, next_member, now, routine)
        if next_routine is not None:
            if idempotency_key is not None:
                token = delete_token_for(idempotency_key, next_routine["id"])
            if next_json is None:
                next_json = orjson.dumps(next_routine)
            next_row = self.store.prepare(catalogue, next_routine, next_json, hash_key(token))
        recorded = {
            "routine_id": routine_id,
            **feedback.model_dump(mode="json"),
            "created_at": rfc3339(now),
            "recommendation": outcome.recommendation.value,
            "rule": {"id": outcome.rule_id.value, "text": outcome.rule},
            "adjustment": adjustment,
            "advice": outcome.advice,
            "urgency": None if outcome.urgency is None else outcome.urgency.value,
            "next_routine_id": None if next_routine is None else next_routine["id"],
        }
        key_hash = (
            None
            if idempotency_key is None
            else hash_idempotency_key(idempotency_key, FEEDBACK_SCOPE.format(routine_id=routine_id))
        )
        try:
            await self.store.record_feedback(recorded, next_row, key_hash)
        except FeedbackExistsError:
            if idempotency_key is None or key_hash is None:
                raise ConflictError("This routine already has feedback.") from None
            return await self._replay_feedback(routine_id, feedback, idempotency_key, key_hash)
        except RoutineDeletedError:
            raise GoneError(f"The routine {routine_id!r} was deleted.") from None
        return FeedbackGiven(recorded, next_routine, token)

    async def _replay_feedback(
        self, routine_id: str, feedback: Feedback, idempotency_key: str, key_hash: str
    ) -> FeedbackGiven:
        """The answer feedback given earlier with this Idempotency-Key had: 409 when it came
        with another key (or none), or this key came with other feedback."""
        earlier = await self.store.feedback_given_with(routine_id)
        if earlier is None or earlier[1] != key_hash:
            raise ConflictError("This routine already has feedback.")
        recorded = {**RECORD_DEFAULTS, **earlier[0]}
        if {name: recorded.get(name) for name in FEEDBACK_FIELDS} != feedback.model_dump(
            mode="json"
        ):
            raise key_reused("This Idempotency-Key was used before with different feedback.")
        next_id = recorded["next_routine_id"]
        if next_id is None:
            return FeedbackGiven(recorded, None, "", replayed=True)
        try:
            next_routine = await self.store.document(next_id)
        except RoutineDeletedError:
            next_routine = None
        if next_routine is None:
            raise ConflictError(
                f"This feedback was given, and the routine it generated ({next_id}) has been "
                "deleted since: there is nothing to replay."
            )
        token = delete_token_for(idempotency_key, next_id)
        return FeedbackGiven(recorded, next_routine, token, replayed=True)

    async def purge_expired(
        self, progress: Callable[[PurgeReport], None] | None = None
    ) -> PurgeReport:
        """Delete the routines older than the retention period, with their profiles and
        feedback, in batches of ROUTINE_PURGE_BATCH_SIZE, each its own short transaction (`progress`
        hears the totals after each). Idempotent and resumable: stopped anywhere, the next run
        carries on; safe from several replicas at once."""
        return await self.store.purge_expired(progress)
