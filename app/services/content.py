"""Content editing, listing and the audit trail, for the JSON API, the admin UI and the CLI.

Writes run in the catalogue writer's unit of work (`app.content.editing` holds the rules: one
validation, optimistic concurrency, the audit record), reads in a read-only session; the web layer
parses and shapes, and never holds a session.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from app.content import editing, importing
from app.content.importing import ImportOutcome
from app.db.audit_queries import AuditQuery, list_changes
from app.db.catalogue_queries import (
    EditorListing,
    StoredVersion,
    exercise_versions,
    list_exercise_rows,
    load_sources,
)
from app.db.catalogue_store import CatalogueWriter
from app.db.models import AuditEntryRow, ExerciseRow
from app.db.session import holding_for
from app.domain.catalogue import Catalogue, CatalogueEntry
from app.domain.exercise import Exercise, Source
from app.domain.vocabulary import VERSIONED_STATUSES

__all__ = [
    "AuditQuery",
    "Content",
    "EditorListing",
    "ExerciseVersion",
    "ImportOutcome",
    "StoredExercise",
]


@dataclass(frozen=True)
class StoredExercise:
    """An exercise as stored, in any status: its slug, version and whole record as JSON."""

    slug: str
    version: int
    detail_json: bytes


@dataclass(frozen=True)
class ExerciseVersion:
    """A kept, readable version of an exercise (published, or its retirement) as the catalogue
    showed it, with the sources as they are now."""

    entry: CatalogueEntry
    status: str
    recorded_at: datetime


class Content:
    def __init__(self, writer: CatalogueWriter, import_hold_seconds: float) -> None:
        self._writer = writer
        self._import_hold_seconds = import_hold_seconds
        """The bound an import's one transaction declares (DATABASE_IMPORT_HOLD_TIMEOUT_SECONDS):
        the largest allowed takes tens of seconds on a busy database, more than other units
        may hold a connection."""

    def _read(self) -> Session:
        self._writer.store.gate.require()
        return Session(self._writer.engine)

    # --- reads ------------------------------------------------------------------------------

    def rows(self, listing: EditorListing) -> list[ExerciseRow]:
        with self._read() as session:
            return list_exercise_rows(session, listing)

    def row(self, slug: str) -> ExerciseRow:
        """The stored row of any status; 404 when no exercise has the slug."""
        with self._read() as session:
            return editing.current_row(session, slug)

    def stored(self, slug: str) -> StoredExercise:
        with self._read() as session:
            return _stored(session, editing.current_row(session, slug))

    def page(self, listing: EditorListing) -> list[StoredExercise]:
        with self._read() as session:
            return [_stored(session, row) for row in list_exercise_rows(session, listing)]

    def versions(self, slug: str, version: int | None = None) -> list[ExerciseVersion]:
        """The readable kept versions of an exercise, oldest first (or only `version`): empty
        when the slug has none."""
        with self._read() as session:
            stored = exercise_versions(session, slug, VERSIONED_STATUSES, version)
            sources = {source.id: source for source in load_sources(session)} if stored else {}
        return [_version(item, sources) for item in stored]

    def entry_at(self, catalogue: Catalogue, slug: str, version: int) -> CatalogueEntry | None:
        """The exercise at `version`: the snapshot's entry when it is the current one, else the
        kept version (blocking: a database read); None when there is no such version."""
        entry = catalogue.get(slug)
        if entry is not None and entry.version == version:
            return entry
        found = self.versions(slug, version)
        return found[0].entry if found else None

    def export(self) -> dict[str, Any]:
        """Every source and exercise, in any status, in the seed/import format."""
        with self._read() as session:
            return {
                "sources": [
                    s.model_dump(mode="json", exclude_none=True) for s in load_sources(session)
                ],
                "exercises": [row.document for row in list_exercise_rows(session, EditorListing())],
            }

    def changes(self, query: AuditQuery) -> tuple[list[AuditEntryRow], bool]:
        """A page of the audit trail, newest first, and whether more follow."""
        with self._read() as session:
            return list_changes(session, query)

    # --- writes -----------------------------------------------------------------------------

    # Each write reads the row and the sources once and answers from what it wrote: its
    # statements are bounded, whatever the size of the catalogue.

    def create(self, exercise: Exercise, actor: str) -> StoredExercise:
        with self._writer.unit_of_work() as session:
            saved = editing.create_exercise(session, exercise, actor)
        return _saved(saved)

    def replace(
        self, slug: str, exercise: Exercise, expected: int | None, actor: str
    ) -> StoredExercise:
        with self._writer.unit_of_work() as session:
            saved = editing.replace_exercise(session, slug, exercise, expected, actor)
        return _saved(saved)

    def replace_document(
        self, slug: str, document: Any, expected: int | None, actor: str
    ) -> StoredExercise:
        """PUT's body, which may carry the read-only fields GET shows (see replace_document)."""
        with self._writer.unit_of_work() as session:
            saved = editing.replace_document(session, slug, document, expected, actor)
        return _saved(saved)

    def patch(
        self, slug: str, patch: dict[str, Any], expected: int | None, actor: str
    ) -> StoredExercise:
        with self._writer.unit_of_work() as session:
            saved = editing.patch_exercise(session, slug, patch, expected, actor)
        return _saved(saved)

    def retire(self, slug: str, expected: int | None, actor: str) -> StoredExercise:
        with self._writer.unit_of_work() as session:
            saved = editing.retire_exercise(session, slug, expected, actor)
        return _saved(saved)

    def import_bundle(self, document: Any, dry_run: bool, actor: str) -> ImportOutcome:
        """A bundle (`{sources, exercises}`): all of it or none; a dry run writes nothing."""
        with holding_for(self._import_hold_seconds), self._writer.unit_of_work() as session:
            return importing.import_bundle(session, document, dry_run, actor)


def _saved(saved: editing.Saved) -> StoredExercise:
    return StoredExercise(
        slug=saved.exercise.slug, version=saved.version, detail_json=saved.entry().detail_json
    )


def _stored(session: Session, row: ExerciseRow) -> StoredExercise:
    sources = {source.id: source for source in load_sources(session)}
    entry = CatalogueEntry(Exercise.model_validate(row.document), row.version, sources)
    return StoredExercise(slug=row.slug, version=row.version, detail_json=entry.detail_json)


def _version(stored: StoredVersion, sources: dict[str, Source]) -> ExerciseVersion:
    exercise = Exercise.model_validate(stored.document)
    return ExerciseVersion(
        entry=CatalogueEntry(exercise, stored.version, sources, updated_at=stored.recorded_at),
        status=stored.status,
        recorded_at=stored.recorded_at,
    )
