"""Routines created at once are written together, in one transaction; one that cannot be stored
(its id or Idempotency-Key taken) fails alone, and every other one is stored, byte for byte."""

import asyncio
import uuid
from datetime import UTC, datetime

import orjson
from sqlalchemy.exc import IntegrityError

from app.db.routine_cache import RoutineCache
from app.db.routine_codec import RoutineDictionary
from app.db.routine_queries import IdempotencyKeyTakenError, NewRoutine
from app.db.routine_store import RoutineStore
from app.db.session import Database, build_engine


def new_routine(
    dictionary: RoutineDictionary, routine_id: str, key_hash: str | None = None
) -> NewRoutine:
    document = {
        "id": routine_id,
        "created_at": datetime.now(UTC).isoformat(),
        "outcome": "routine",
        "previous_routine_id": None,
        "steps": ["Lie on your back"] * 3,
    }
    return NewRoutine(document, orjson.dumps(document), dictionary, "token-hash", key_hash)


def test_routines_created_at_once_are_each_stored_or_refused_alone(
    fresh_database_url: str,
) -> None:
    engine = build_engine(fresh_database_url)
    dictionary = RoutineDictionary.of(b'{"steps": ["Lie on your back", "Bend both knees"]}' * 20)
    good = [new_routine(dictionary, str(uuid.uuid4())) for _ in range(12)]
    keyed = new_routine(dictionary, str(uuid.uuid4()), key_hash="k" * 64)
    same_id = new_routine(dictionary, good[3].document["id"])
    same_key = new_routine(dictionary, str(uuid.uuid4()), key_hash="k" * 64)

    async def scenario() -> tuple[list[BaseException | None], list[bytes | None]]:
        store = RoutineStore(Database(engine), retention_days=365)
        outcomes = await asyncio.gather(
            *(store.create(routine) for routine in [*good, keyed, same_id, same_key]),
            return_exceptions=True,
        )
        store.cache = RoutineCache()  # read back from the database
        stored = [await store.body(routine.document["id"]) for routine in [*good, keyed]]
        return outcomes, stored

    try:
        outcomes, stored = asyncio.run(scenario())
    finally:
        engine.dispose()
    assert outcomes[:13] == [None] * 13
    assert isinstance(outcomes[13], IntegrityError)
    assert isinstance(outcomes[14], IdempotencyKeyTakenError)
    assert stored == [routine.document_json for routine in [*good, keyed]]
