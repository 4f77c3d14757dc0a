"""Routine rows: insert a snapshot, read it back, link feedback. Callers own the transaction."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from app.db.models import RoutineFeedbackRow, RoutineRow


class FeedbackExistsError(Exception):
    """The routine already has feedback: its successor is fixed."""


def insert_routine(connection: Connection, document: dict[str, Any]) -> None:
    connection.execute(
        sa.insert(RoutineRow).values(
            id=document["id"],
            created_at=datetime.fromisoformat(document["created_at"]),
            outcome=document["outcome"],
            previous_routine_id=document["previous_routine_id"],
            document=document,
        )
    )


def routine_document(connection: Connection, routine_id: str) -> dict[str, Any] | None:
    document: dict[str, Any] | None = connection.execute(
        sa.select(col(RoutineRow.document)).where(col(RoutineRow.id) == routine_id)
    ).scalar_one_or_none()
    return document


def routine_json(connection: Connection, routine_id: str) -> bytes | None:
    """The stored document as JSON text, unparsed: reading a routine back needs no decoding."""
    text: str | None = connection.execute(
        sa.select(sa.cast(col(RoutineRow.document), sa.Text)).where(
            col(RoutineRow.id) == routine_id
        )
    ).scalar_one_or_none()
    return None if text is None else text.encode()


def record_feedback(
    connection: Connection,
    routine: dict[str, Any],
    feedback: dict[str, Any],
    next_routine: dict[str, Any] | None,
) -> None:
    """Store the feedback, the next routine and the forward link on the earlier routine.

    The unique routine_id on feedback makes concurrent feedback on one routine fail for all but one.
    """
    if next_routine is not None:
        insert_routine(connection, next_routine)
    try:
        connection.execute(
            sa.insert(RoutineFeedbackRow).values(
                routine_id=routine["id"],
                created_at=datetime.fromisoformat(feedback["created_at"]),
                pain_before=feedback["pain_before"],
                pain_after=feedback["pain_after"],
                completed=feedback["completed"],
                difficulty=feedback["difficulty"],
                new_leg_symptoms=feedback["new_leg_symptoms"],
                recommendation=feedback["recommendation"],
                rule=feedback["rule"]["id"],
                next_routine_id=None if next_routine is None else next_routine["id"],
            )
        )
    except IntegrityError as error:
        raise FeedbackExistsError(routine["id"]) from error
    connection.execute(
        sa.update(RoutineRow)
        .where(col(RoutineRow.id) == routine["id"])
        .values(
            document={
                **routine,
                "feedback": feedback,
                "next_routine_id": None if next_routine is None else next_routine["id"],
            }
        )
    )
