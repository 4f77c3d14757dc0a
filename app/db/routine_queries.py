"""Routine rows: insert a snapshot, read it back, link feedback. Callers own the transaction."""

from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from app.db.models import RoutineFeedbackRow, RoutineRow


class FeedbackExistsError(Exception):
    """The routine already has feedback: its successor is fixed."""


ROUTINE_TABLE: sa.Table = RoutineRow.__table__  # type: ignore[attr-defined]
INSERT_ROUTINE = sa.insert(ROUTINE_TABLE)
SELECT_ROUTINE = sa.select(ROUTINE_TABLE.c.document).where(
    ROUTINE_TABLE.c.id == sa.bindparam("routine_id")
)


def insert_routine(connection: Connection, document: dict[str, Any], document_json: bytes) -> None:
    """Store a routine; `document_json` is `document` already serialised (the response bytes)."""
    connection.execute(
        INSERT_ROUTINE,
        {
            "id": document["id"],
            "created_at": datetime.fromisoformat(document["created_at"]),
            "outcome": document["outcome"],
            "previous_routine_id": document["previous_routine_id"],
            "document": document_json.decode(),
        },
    )


def routine_json(connection: Connection, routine_id: str) -> bytes | None:
    """The stored document as JSON bytes, exactly as creation returned them."""
    text: str | None = connection.execute(
        SELECT_ROUTINE, {"routine_id": routine_id}
    ).scalar_one_or_none()
    return None if text is None else text.encode()


def routine_document(connection: Connection, routine_id: str) -> dict[str, Any] | None:
    stored = routine_json(connection, routine_id)
    return None if stored is None else dict(orjson.loads(stored))


def feedback_document(connection: Connection, routine_id: str) -> dict[str, Any] | None:
    document: dict[str, Any] | None = connection.execute(
        sa.select(col(RoutineFeedbackRow.document)).where(
            col(RoutineFeedbackRow.routine_id) == routine_id
        )
    ).scalar_one_or_none()
    return document


def record_feedback(
    connection: Connection, feedback: dict[str, Any], next_routine: dict[str, Any] | None
) -> None:
    """Store the feedback and the routine generated from it. Routines themselves never change:
    the forward link lives here. The unique routine_id makes concurrent feedback on one routine
    fail for all but one."""
    if next_routine is not None:
        insert_routine(connection, next_routine, orjson.dumps(next_routine))
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
