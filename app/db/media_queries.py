"""Reads and writes of the stored files of exercises' images. Writers never commit: the caller's
unit of work does."""

from datetime import datetime
from typing import NamedTuple

import sqlalchemy as sa
from sqlmodel import Session, col

from app.db.models import ExerciseMediaRow, ExerciseRow


class MediaFile(NamedTuple):
    """A stored file to write: the bytes, their hash, and the thumbnail made from them."""

    media_id: str
    sha256: str
    content_type: str
    width: int
    height: int
    data: bytes
    thumbnail: bytes
    thumbnail_width: int
    thumbnail_height: int


def insert_media_file(
    session: Session,
    exercise_id: int,
    file: MediaFile,
    exercise_version: int,
    actor: str,
    at: datetime,
) -> None:
    session.add(
        ExerciseMediaRow(
            exercise_id=exercise_id,
            exercise_version=exercise_version,
            created_at=at,
            created_by=actor,
            **file._asdict(),
        )
    )
    session.flush()


def media_file_stored(session: Session, exercise_id: int, media_id: str) -> bool:
    statement = sa.select(col(ExerciseMediaRow.id)).where(
        col(ExerciseMediaRow.exercise_id) == exercise_id,
        col(ExerciseMediaRow.media_id) == media_id,
    )
    return session.execute(statement).first() is not None


def delete_media_file(session: Session, exercise_id: int, media_id: str) -> None:
    statement = sa.delete(ExerciseMediaRow).where(
        col(ExerciseMediaRow.exercise_id) == exercise_id,
        col(ExerciseMediaRow.media_id) == media_id,
    )
    session.execute(statement.execution_options(synchronize_session=False))


class ServedFile(NamedTuple):
    """A stored file (or its thumbnail) by hash, with the exercise it belongs to."""

    slug: str
    content_type: str
    body: bytes


def files_by_hash(session: Session, sha256: str, thumbnail: bool) -> list[ServedFile]:
    """The stored files with this hash (one per exercise it is attached to, at most a few)."""
    column = ExerciseMediaRow.thumbnail if thumbnail else ExerciseMediaRow.data
    statement = (
        sa.select(col(ExerciseRow.slug), col(ExerciseMediaRow.content_type), col(column))
        .join(ExerciseRow, col(ExerciseRow.id) == col(ExerciseMediaRow.exercise_id))
        .where(col(ExerciseMediaRow.sha256) == sha256)
        .order_by(col(ExerciseRow.slug))
        .limit(16)
    )
    return [ServedFile(*row) for row in session.execute(statement)]


def stored_media_ids(session: Session, exercise_id: int) -> set[str]:
    """The ids of the files stored for an exercise (at most its images' limit)."""
    statement = sa.select(col(ExerciseMediaRow.media_id)).where(
        col(ExerciseMediaRow.exercise_id) == exercise_id
    )
    return set(session.execute(statement).scalars())


def stored_file_bytes(session: Session, slug: str, media_id: str) -> bytes | None:
    """The stored file of one image of an exercise, in any status (export)."""
    statement = (
        sa.select(col(ExerciseMediaRow.data))
        .join(ExerciseRow, col(ExerciseRow.id) == col(ExerciseMediaRow.exercise_id))
        .where(col(ExerciseRow.slug) == slug, col(ExerciseMediaRow.media_id) == media_id)
    )
    data: bytes | None = session.execute(statement).scalar_one_or_none()
    return data
