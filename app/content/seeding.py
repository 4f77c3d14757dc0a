"""`seed`: seed/ is the content that ships; the database is the live catalogue.

Seed creates what is missing and brings a seed file's change only to an exercise nobody has edited
since it was last seeded. Each exercise row keeps `seed_hash`, the hash of the validated seed
document it was last seeded from: an exercise whose validated document no longer hashes to it was
edited since (through the API, the admin UI or an import) and is kept, unless the operator names it
with `--overwrite`. A retired exercise is never brought back. "Changed" always means the validated
documents differ, so a field added to the model with a default changes nothing.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from pydantic import ValidationError
from sqlmodel import Session

from app.content.bundle import ContentBundle, content_hash
from app.content.media import store_listed_files
from app.db.audit_queries import last_actor_by_exercise, record_change
from app.db.catalogue_queries import (
    SeedState,
    apply_sources,
    bump_revision,
    exercise_row,
    insert_exercise,
    seed_states,
    set_seed_hash,
    update_exercise,
)
from app.db.media_queries import MediaFile
from app.domain.exercise import Exercise
from app.domain.vocabulary import Status

SEED_ACTOR = "seed command"


class Outcome(StrEnum):
    """What seed did with one seed file; the kept ones name why."""

    created = "created"
    updated = "updated"
    overwritten = "overwritten"
    unchanged = "unchanged"
    kept_edited = "edited since seeded"
    kept_retired = "retired"
    kept_unreadable = "written by a newer version of the code"


WRITES = (Outcome.created, Outcome.updated, Outcome.overwritten)
KEPT = (Outcome.kept_edited, Outcome.kept_retired, Outcome.kept_unreadable)


@dataclass
class SeedReport:
    slugs: dict[Outcome, list[str]] = field(default_factory=lambda: {o: [] for o in Outcome})
    revision: int | None = None

    def counts(self) -> dict[str, int]:
        return {outcome.name: len(slugs) for outcome, slugs in self.slugs.items()}

    @property
    def created(self) -> list[str]:
        return self.slugs[Outcome.created]

    @property
    def updated(self) -> list[str]:
        return self.slugs[Outcome.updated]

    @property
    def unchanged(self) -> list[str]:
        return self.slugs[Outcome.unchanged]

    @property
    def kept(self) -> dict[Outcome, list[str]]:
        return {outcome: self.slugs[outcome] for outcome in KEPT if self.slugs[outcome]}


def decide(file_version: Exercise, stored: SeedState | None, overwrite: bool) -> Outcome:
    """What seed does with one file, given the row it would write over (if any)."""
    if stored is None:
        return Outcome.created
    try:
        current = Exercise.model_validate(stored.document)
    except ValidationError:
        return Outcome.kept_unreadable
    if current == file_version:
        return Outcome.unchanged
    if current.status is Status.retired:
        return Outcome.kept_retired
    current_hash = content_hash(current)
    seeded_from = stored.seed_hash
    if seeded_from is None and stored.last_changed_by_seed:
        seeded_from = current_hash
    if seeded_from == current_hash:
        return Outcome.updated
    return Outcome.overwritten if overwrite else Outcome.kept_edited


def seed_catalogue(
    session: Session,
    bundle: ContentBundle,
    overwrite: frozenset[str] = frozenset(),
    files: Mapping[str, MediaFile] | None = None,
) -> SeedReport:
    """Apply a validated seed bundle under the rules above, in the caller's transaction; an
    exercise written gets the image files its records list, from `files` (by hash)."""
    files = files or {}
    report = SeedReport()
    sources_changed = apply_sources(session, bundle.sources)
    stored = {state.slug: state for state in _stored(session)}
    decisions = [
        (exercise, decide(exercise, stored.get(exercise.slug), exercise.slug in overwrite))
        for exercise in bundle.exercises
    ]
    if sources_changed or any(outcome in WRITES for _exercise, outcome in decisions):
        report.revision = bump_revision(session)
    for exercise, outcome in decisions:
        row = stored.get(exercise.slug)
        seed_hash = content_hash(exercise)
        if row is None:
            assert report.revision is not None
            created = insert_exercise(session, exercise, report.revision, seed_hash=seed_hash)
            if exercise.media:
                assert created.id is not None
                store_listed_files(session, created.id, 1, exercise.media, files, SEED_ACTOR)
            after = exercise.model_dump(mode="json")
            record_change(session, SEED_ACTOR, "create", exercise.slug, None, after)
        elif outcome in WRITES:
            outcome = _update(session, exercise, row, outcome, report.revision, files)
        elif outcome is Outcome.unchanged and row.seed_hash != seed_hash:
            set_seed_hash(session, exercise.slug, seed_hash)
        report.slugs[outcome].append(exercise.slug)
    session.flush()
    return report


def _update(
    session: Session,
    exercise: Exercise,
    row: SeedState,
    outcome: Outcome,
    revision: int | None,
    files: Mapping[str, MediaFile],
) -> Outcome:
    """Write the file's version over the row's, with its image files; an edit committed since
    we read it wins."""
    assert revision is not None
    if not update_exercise(
        session, exercise, row.version, revision, seed_hash=content_hash(exercise)
    ):
        return Outcome.kept_edited
    if exercise.media or Exercise.model_validate(row.document).media:
        stored = exercise_row(session, exercise.slug)
        assert stored is not None
        assert stored.id is not None
        version = row.version + 1
        store_listed_files(session, stored.id, version, exercise.media, files, SEED_ACTOR)
    action = "overwrite" if outcome is Outcome.overwritten else "update"
    after = exercise.model_dump(mode="json")
    record_change(session, SEED_ACTOR, action, exercise.slug, row.document, after)
    return outcome


def _stored(session: Session) -> list[SeedState]:
    """Every row's seed state. Rows seeded before seed hashes were kept (seed_hash NULL) count as
    seeded from their current document when the seed command made their last change."""
    states = seed_states(session)
    if all(state.seed_hash is not None for state in states):
        return states
    last_actor = last_actor_by_exercise(session)
    return [
        state
        if state.seed_hash is not None or last_actor.get(state.slug) != SEED_ACTOR
        else state._replace(last_changed_by_seed=True)
        for state in states
    ]
