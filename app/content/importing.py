"""Importing a content bundle: all of it or none, validated as the catalogue it would produce.

One classification (`classify`) says what an import does with each exercise; the dry run reports
it and the real import applies it, so the two cannot disagree. Callers own the transaction.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.content.bundle import ContentIssue, Place, parse_bundle_document
from app.content.editing import rejected
from app.core.errors import ConflictError, FieldError
from app.db.audit_queries import record_change
from app.db.catalogue_queries import (
    EditorListing,
    apply_sources,
    bump_revision,
    insert_exercise,
    list_exercise_rows,
    load_sources,
    lock_catalogue,
    stored_exercise,
    update_exercise,
)
from app.db.models import ExerciseRow
from app.domain.exercise import Exercise, Source


@dataclass(frozen=True)
class ImportOutcome:
    """The slugs an import creates, updates and leaves unchanged, in the bundle's order."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


class Change(StrEnum):
    created = "created"
    updated = "updated"
    unchanged = "unchanged"


@dataclass(frozen=True)
class Classification:
    """What an import does with each exercise of a bundle, in the bundle's order."""

    changes: list[tuple[Exercise, Change]]

    def outcome(self) -> ImportOutcome:
        slugs = {change: [e.slug for e, c in self.changes if c is change] for change in Change}
        return ImportOutcome(
            created=slugs[Change.created],
            updated=slugs[Change.updated],
            unchanged=slugs[Change.unchanged],
        )


def classify(
    exercises: Iterable[Exercise], stored: Mapping[str, Exercise | None]
) -> Classification:
    """Created when no exercise has its slug; unchanged when the stored document validates to the
    same record; updated otherwise (a stored document this code cannot read included)."""
    return Classification(
        [
            (
                exercise,
                Change.created
                if exercise.slug not in stored
                else Change.unchanged
                if stored[exercise.slug] == exercise
                else Change.updated,
            )
            for exercise in exercises
        ]
    )


def import_bundle(session: Session, document: Any, dry_run: bool, actor: str) -> ImportOutcome:
    """Validate and apply a bundle as one unit of work. A real import holds the catalogue's write
    lock from before it reads, so it is serialised with every edit: an edit that committed first
    is what it validates against and replaces (and audits as `before`); an edit that comes later
    finds its If-Match stale."""
    if not dry_run:
        lock_catalogue(session)
    rows = {row.slug: row for row in list_exercise_rows(session, EditorListing())}
    stored = {slug: stored_exercise(row) for slug, row in rows.items()}
    existing = [exercise for exercise in stored.values() if exercise is not None]
    parsed = parse_bundle_document(document, load_sources(session), existing)
    if parsed.issues:
        raise rejected(parsed.issues)
    exercises, issues = with_stored_media(document, parsed.bundle.exercises, stored)
    if issues:
        raise rejected(issues)
    classification = classify(exercises, stored)
    if not dry_run:
        apply(session, parsed.bundle.sources, classification, rows, actor)
    return classification.outcome()


MEDIA_FROM_FILES = (
    "images come with their files: attach them through /v1/exercises/{slug}/media or seed them "
    "from a seed directory; an import keeps the stored ones (send them as export wrote them, or "
    "leave them out)"
)


def with_stored_media(
    document: Any, exercises: list[Exercise], stored: Mapping[str, Exercise | None]
) -> tuple[list[Exercise], list[ContentIssue]]:
    """Each exercise with the images stored for it: a bundle carries no image files, so its
    `media` must be what is stored (as export wrote it) or left out; anything else is a problem
    naming `exercises.N.media`."""
    raws = document.get("exercises") or [] if isinstance(document, dict) else []
    index = {raw.get("slug"): i for i, raw in enumerate(raws) if isinstance(raw, dict)}
    kept: list[Exercise] = []
    issues: list[ContentIssue] = []
    for exercise in exercises:
        current = stored.get(exercise.slug)
        media = current.media if current is not None else []
        if exercise.media and exercise.media != media:
            i = index[exercise.slug]
            place = Place(f"exercises.{i}", ("exercises", i))
            issues.append(ContentIssue.at(place, exercise.slug, ("media",), MEDIA_FROM_FILES))
        kept.append(exercise.model_copy(update={"media": media}))
    return kept, issues


def apply(
    session: Session,
    sources: list[Source],
    classification: Classification,
    rows: Mapping[str, ExerciseRow],
    actor: str,
) -> None:
    """Write the sources and the created and updated exercises under one new revision, each
    change in the audit trail under `actor`. An exercise that changed since `rows` were read is a
    409, so the caller's transaction rolls the whole bundle back."""
    sources_changed = apply_sources(session, sources)
    writes = [(e, change) for e, change in classification.changes if change is not Change.unchanged]
    if not writes and not sources_changed:
        return
    revision = bump_revision(session)
    stale: list[str] = []
    for exercise, change in writes:
        after = exercise.model_dump(mode="json")
        if change is Change.created:
            try:
                insert_exercise(session, exercise, revision)
            except IntegrityError:
                raise changed_concurrently([exercise.slug]) from None
            record_change(session, actor, "create", exercise.slug, None, after)
            continue
        row = rows[exercise.slug]
        if update_exercise(session, exercise, row.version, revision):
            record_change(session, actor, "update", exercise.slug, row.document, after)
        else:
            stale.append(exercise.slug)
    if stale:
        raise changed_concurrently(stale)
    session.flush()


def changed_concurrently(slugs: list[str]) -> ConflictError:
    return ConflictError(
        f"Changed by someone else while the import was applied: {', '.join(slugs)}. "
        "Nothing was imported; export again or re-send the bundle.",
        [FieldError(location="body", field=slug, message="changed concurrently") for slug in slugs],
    )
