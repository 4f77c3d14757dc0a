"""Attaching an image to an exercise and removing one: each an edit of the exercise, like any
other (a new version under optional If-Match, a catalogue revision so the changes feed carries
it, a kept version, an audit entry), written with the image's stored file in one transaction.
Callers own the transaction."""

from collections.abc import Mapping
from datetime import UTC, datetime

from sqlmodel import Session

from app.content.bundle import ContentIssue
from app.content.editing import BODY, Edit, Saved, rejected
from app.content.media_files import media_record
from app.core.errors import ConflictError, NotFoundError
from app.db.catalogue_queries import bump_revision
from app.db.media_queries import (
    MediaFile,
    delete_media_file,
    insert_media_file,
    stored_media_ids,
)
from app.domain.exercise import MAX_ITEMS, Attribution, Exercise, Media
from app.domain.vocabulary import Status

ATTACH = "attach-media"
REMOVE = "remove-media"


def media_edit(
    session: Session, slug: str, expected_version: int | None
) -> tuple[Edit, Exercise, int, int]:
    """The exercise to change, under the catalogue's write lock (taken first): its edit, record,
    version and the revision the change takes; 404 for no such slug, 412 when it is no longer
    at `expected_version`, 409 when retired."""
    revision = bump_revision(session)
    edit = Edit(session, slug)
    version = edit.require_version(expected_version)
    exercise = edit.stored()
    if exercise.status is Status.retired:
        raise ConflictError(f"{slug!r} is retired: its images can no longer change.")
    return edit, exercise, version, revision


def attach_media(
    session: Session,
    slug: str,
    file: MediaFile,
    attribution: Attribution,
    expected_version: int | None,
    actor: str,
) -> tuple[Saved, Media]:
    """The image's record added to the exercise (a new version) and its file stored."""
    edit, exercise, version, revision = media_edit(session, slug, expected_version)
    if any(item.id == file.media_id for item in exercise.media):
        raise ConflictError(f"This image is already attached to {slug!r}, as {file.media_id!r}.")
    if len(exercise.media) >= MAX_ITEMS["media"]:
        limit = f"holds at most {MAX_ITEMS['media']} images"
        raise rejected([ContentIssue.at(BODY, slug, ("media",), limit)])
    media = media_record(file, attribution)
    changed = exercise.model_copy(update={"media": [*exercise.media, media]})
    saved = edit.write(changed, version, actor, ATTACH, revision)
    assert edit.row.id is not None
    insert_media_file(session, edit.row.id, file, saved.version, actor, datetime.now(UTC))
    return saved, media


def remove_media(
    session: Session, slug: str, media_id: str, expected_version: int | None, actor: str
) -> Saved:
    """The image's record taken off the exercise (a new version) and its file deleted, so its
    URL stops serving at once."""
    edit, exercise, version, revision = media_edit(session, slug, expected_version)
    kept = [item for item in exercise.media if item.id != media_id]
    if len(kept) == len(exercise.media):
        raise NotFoundError(f"{slug!r} has no image {media_id!r}.")
    saved = edit.write(
        exercise.model_copy(update={"media": kept}), version, actor, REMOVE, revision
    )
    assert edit.row.id is not None
    delete_media_file(session, edit.row.id, media_id)
    return saved


def store_listed_files(
    session: Session,
    exercise_id: int,
    version: int,
    media: list[Media],
    files: Mapping[str, MediaFile],
    actor: str,
) -> None:
    """Make an exercise's stored files the ones its records list (seed writing a seed file's
    version): files no longer listed deleted, new ones stored from `files` (by hash)."""
    listed = {item.id: item for item in media}
    stored = stored_media_ids(session, exercise_id)
    for gone in sorted(stored - set(listed)):
        delete_media_file(session, exercise_id, gone)
    now = datetime.now(UTC)
    for new in sorted(set(listed) - stored):
        insert_media_file(session, exercise_id, files[listed[new].sha256], version, actor, now)
