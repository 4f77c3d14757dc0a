"""Routine rows: insert a snapshot, read it back, link feedback, delete and purge. Callers own
the transaction, which runs in the thread pool. Decompression happens outside, on the event loop
(app/db/routine_codec.py); a new routine is compressed before its transaction begins."""

import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import cached_property
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from app.db.models import RoutineDictionaryRow, RoutineFeedbackRow, RoutineRow
from app.db.routine_codec import RoutineDictionary


class FeedbackExistsError(Exception):
    """The routine already has feedback: its successor is fixed."""


class RoutineDeletedError(Exception):
    """The routine was deleted: only its tombstone is left."""


class IdempotencyKeyTakenError(Exception):
    """Another routine was already created with this Idempotency-Key."""


ROUTINE_TABLE: sa.Table = RoutineRow.__table__  # type: ignore[attr-defined]
FEEDBACK_TABLE: sa.Table = RoutineFeedbackRow.__table__  # type: ignore[attr-defined]
DICTIONARY_TABLE: sa.Table = RoutineDictionaryRow.__table__  # type: ignore[attr-defined]
INSERT_ROUTINE = sa.insert(ROUTINE_TABLE)
STORED_COLUMNS = (
    ROUTINE_TABLE.c.id,
    ROUTINE_TABLE.c.document_zstd,
    ROUTINE_TABLE.c.dictionary_id,
)
SELECT_ROUTINE = sa.select(*STORED_COLUMNS).where(ROUTINE_TABLE.c.id == sa.bindparam("routine_id"))
SELECT_BY_IDEMPOTENCY_KEY = sa.select(*STORED_COLUMNS).where(
    ROUTINE_TABLE.c.idempotency_key_hash == sa.bindparam("key_hash")
)
INSERT_DICTIONARY = {
    "sqlite": sqlite.insert(DICTIONARY_TABLE).on_conflict_do_nothing(index_elements=["id"]),
    "postgresql": postgresql.insert(DICTIONARY_TABLE).on_conflict_do_nothing(index_elements=["id"]),
}
DELETED_OUTCOME = "deleted"


@dataclass(frozen=True)
class StoredRoutine:
    """A routine row as stored: `document_zstd` is None for a tombstone."""

    id: str
    document_zstd: bytes | None
    dictionary_id: str | None


@dataclass
class NewRoutine:
    """A routine to store: `document_json` is `document` serialised, the bytes the API returns."""

    document: dict[str, Any]
    document_json: bytes
    dictionary: RoutineDictionary
    delete_token_hash: str
    idempotency_key_hash: str | None = None

    @cached_property
    def document_zstd(self) -> bytes:
        """The stored form, compressed on first use: by the worker thread that stores it."""
        return self.dictionary.compress(self.document_json)


def insert_routine(connection: Connection, routine: NewRoutine) -> None:
    """Store a routine (and its dictionary, the first time this process uses it)."""
    try:
        insert_routines(connection, [routine])
    except IntegrityError as error:
        if routine.idempotency_key_hash is None:
            raise
        raise IdempotencyKeyTakenError from error


def insert_routines(connection: Connection, routines: Sequence[NewRoutine]) -> None:
    """Store routines in one statement, with each dictionary the first time this process uses
    it. An IntegrityError (an Idempotency-Key used before) fails them all: `insert_routine`,
    one at a time, tells which it was."""
    dictionaries = {r.dictionary.id: r.dictionary for r in routines if not r.dictionary.stored}
    for dictionary in dictionaries.values():
        connection.execute(
            INSERT_DICTIONARY[connection.dialect.name],
            {"id": dictionary.id, "content": dictionary.content, "created_at": datetime.now(UTC)},
        )
    connection.execute(INSERT_ROUTINE, [routine_row(routine) for routine in routines])


def routine_row(routine: NewRoutine) -> dict[str, Any]:
    document = routine.document
    return {
        "id": document["id"],
        "created_at": datetime.fromisoformat(document["created_at"]),
        "outcome": document["outcome"],
        "previous_routine_id": document["previous_routine_id"],
        "dictionary_id": routine.dictionary.id,
        "document_zstd": routine.document_zstd,
        "delete_token_hash": routine.delete_token_hash,
        "idempotency_key_hash": routine.idempotency_key_hash,
    }


def stored_routine(connection: Connection, routine_id: str) -> StoredRoutine | None:
    row = connection.execute(SELECT_ROUTINE, {"routine_id": routine_id}).one_or_none()
    return None if row is None else StoredRoutine(*row)


def routine_for_idempotency_key(connection: Connection, key_hash: str) -> StoredRoutine | None:
    row = connection.execute(SELECT_BY_IDEMPOTENCY_KEY, {"key_hash": key_hash}).one_or_none()
    return None if row is None else StoredRoutine(*row)


def dictionary_content(connection: Connection, dictionary_id: str) -> bytes | None:
    content: bytes | None = connection.execute(
        sa.select(DICTIONARY_TABLE.c.content).where(DICTIONARY_TABLE.c.id == dictionary_id)
    ).scalar_one_or_none()
    return content


def feedback_document(connection: Connection, routine_id: str) -> dict[str, Any] | None:
    document: dict[str, Any] | None = connection.execute(
        sa.select(col(RoutineFeedbackRow.document)).where(
            col(RoutineFeedbackRow.routine_id) == routine_id
        )
    ).scalar_one_or_none()
    return document


def feedback_given_with(
    connection: Connection, routine_id: str
) -> tuple[dict[str, Any], str | None] | None:
    """The feedback on a routine and the hash of the Idempotency-Key it came with."""
    row = connection.execute(
        sa.select(
            col(RoutineFeedbackRow.document), col(RoutineFeedbackRow.idempotency_key_hash)
        ).where(col(RoutineFeedbackRow.routine_id) == routine_id)
    ).one_or_none()
    return None if row is None else (dict(row[0]), row[1])


def record_feedback(
    connection: Connection,
    feedback: dict[str, Any],
    next_routine: NewRoutine | None,
    idempotency_key_hash: str | None = None,
) -> None:
    """Store the feedback and the routine generated from it. Routines themselves never change:
    the forward link lives here. The unique routine_id makes concurrent feedback on one routine
    fail for all but one. The routine is claimed first (a write that changes nothing), so a
    delete or purge running at the same time either waits for this feedback and removes it too,
    or wins and this feedback is refused."""
    claimed = connection.execute(
        sa.update(ROUTINE_TABLE)
        .where(ROUTINE_TABLE.c.id == feedback["routine_id"], ROUTINE_TABLE.c.deleted_at.is_(None))
        .values(deleted_at=None)
    )
    if claimed.rowcount != 1:
        raise RoutineDeletedError(feedback["routine_id"])
    if next_routine is not None:
        insert_routine(connection, next_routine)
    try:
        connection.execute(
            sa.insert(RoutineFeedbackRow).values(
                routine_id=feedback["routine_id"],
                created_at=datetime.fromisoformat(feedback["created_at"]),
                pain_before=feedback["pain_before"],
                pain_after=feedback["pain_after"],
                completed=feedback["completed"],
                difficulty=feedback["difficulty"],
                new_leg_symptoms=feedback["new_leg_symptoms"],
                recommendation=feedback["recommendation"],
                rule=feedback["rule"]["id"],
                next_routine_id=feedback["next_routine_id"],
                document=feedback,
                idempotency_key_hash=idempotency_key_hash,
            )
        )
    except IntegrityError as error:
        raise FeedbackExistsError(feedback["routine_id"]) from error


def chain_feedback(connection: Connection, routine_ids: list[str]) -> list[dict[str, Any]]:
    """The feedback given on these routines (the earlier routines of a chain), oldest first."""
    if not routine_ids:
        return []
    rows = connection.execute(
        sa.select(col(RoutineFeedbackRow.document))
        .where(col(RoutineFeedbackRow.routine_id).in_(routine_ids))
        .order_by(col(RoutineFeedbackRow.created_at), col(RoutineFeedbackRow.id))
    ).scalars()
    return [dict(document) for document in rows]


class Deletion(StrEnum):
    deleted = "deleted"
    not_found = "not_found"
    already_deleted = "already_deleted"
    refused = "refused"


def tombstone_values() -> dict[str, Any]:
    """What a deleted routine keeps: its id and created_at (so the chain and retention still
    work) and when it was deleted. The profile, the routine and every hash go."""
    return {
        "outcome": DELETED_OUTCOME,
        "previous_routine_id": None,
        "dictionary_id": None,
        "document_zstd": None,
        "delete_token_hash": None,
        "idempotency_key_hash": None,
        "deleted_at": datetime.now(UTC),
    }


def token_refusal(connection: Connection, routine_id: str, token_hash: str) -> Deletion | None:
    """Why `token_hash` does not let its holder act on the routine (unknown, deleted, another
    routine's token), or None when it is the hash of the routine's delete token (compared in
    constant time)."""
    row = connection.execute(
        sa.select(ROUTINE_TABLE.c.delete_token_hash, ROUTINE_TABLE.c.deleted_at).where(
            ROUTINE_TABLE.c.id == routine_id
        )
    ).one_or_none()
    if row is None:
        return Deletion.not_found
    stored_hash, deleted_at = row
    if deleted_at is not None:
        return Deletion.already_deleted
    if stored_hash is None or not hmac.compare_digest(stored_hash, token_hash):
        return Deletion.refused
    return None


def delete_routine(connection: Connection, routine_id: str, token_hash: str) -> Deletion:
    """Turn the routine into a tombstone and delete its feedback, if `token_hash` is its delete
    token's hash. Nothing changes otherwise."""
    refusal = token_refusal(connection, routine_id, token_hash)
    if refusal is not None:
        return refusal
    changed = connection.execute(
        sa.update(ROUTINE_TABLE)
        .where(ROUTINE_TABLE.c.id == routine_id, ROUTINE_TABLE.c.deleted_at.is_(None))
        .values(tombstone_values())
    )
    if changed.rowcount != 1:
        return Deletion.already_deleted
    connection.execute(sa.delete(FEEDBACK_TABLE).where(FEEDBACK_TABLE.c.routine_id == routine_id))
    return Deletion.deleted


@dataclass(frozen=True)
class PurgeReport:
    cutoff: datetime
    purged: int
    tombstones_removed: int


def purge_batch(connection: Connection, cutoff: datetime, batch_size: int) -> PurgeReport:
    """One bounded step of the purge, for one short transaction: turn at most `batch_size`
    routines created before `cutoff` into tombstones (as `delete_routine` does, feedback
    included), then delete at most `batch_size` tombstones older than `cutoff` that nothing
    names any more. Each statement finds its rows through an index. Repeated until a step
    does nothing, it purges everything; stopped anywhere, a later run carries on. Safe on
    several replicas at once: a routine already made a tombstone by another is not counted."""
    routine, feedback = ROUTINE_TABLE.c, FEEDBACK_TABLE.c
    expired = list(
        connection.execute(
            sa.select(routine.id)
            .where(routine.created_at < cutoff, routine.deleted_at.is_(None))
            .order_by(routine.created_at, routine.id)
            .limit(batch_size)
        ).scalars()
    )
    purged = 0
    if expired:
        purged = connection.execute(
            sa.update(ROUTINE_TABLE)
            .where(routine.id.in_(expired), routine.deleted_at.is_(None))
            .values(tombstone_values())
        ).rowcount
        connection.execute(sa.delete(FEEDBACK_TABLE).where(feedback.routine_id.in_(expired)))
    later = ROUTINE_TABLE.alias("later")
    unnamed = list(
        connection.execute(
            sa.select(routine.id)
            .where(
                routine.deleted_at.is_not(None),
                routine.created_at < cutoff,
                ~sa.exists().where(later.c.previous_routine_id == routine.id),
                ~sa.exists().where(feedback.next_routine_id == routine.id),
            )
            .order_by(routine.created_at, routine.id)
            .limit(batch_size)
        ).scalars()
    )
    removed = 0
    if unnamed:
        connection.execute(sa.delete(FEEDBACK_TABLE).where(feedback.routine_id.in_(unnamed)))
        removed = connection.execute(
            sa.delete(ROUTINE_TABLE).where(
                routine.id.in_(unnamed),
                routine.deleted_at.is_not(None),
                ~sa.exists().where(later.c.previous_routine_id == routine.id),
                ~sa.exists().where(feedback.next_routine_id == routine.id),
            )
        ).rowcount
    return PurgeReport(cutoff, purged, removed)
