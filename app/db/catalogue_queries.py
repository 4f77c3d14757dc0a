"""Reads and writes of catalogue rows. Writers never commit: the caller's unit of work does."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from pydantic import ValidationError
from sqlmodel import Session, col, select

from app.db.models import (
    CatalogueStateRow,
    ExerciseProgressionRow,
    ExerciseRow,
    ExerciseVersionRow,
    SourceRow,
)
from app.domain.exercise import Exercise, Source


def catalogue_revision(session: Session) -> int:
    return session.exec(select(CatalogueStateRow.revision).where(CatalogueStateRow.id == 1)).one()


def bump_revision(session: Session) -> int:
    """Take the next catalogue revision. On Postgres the row lock also serialises writers."""
    statement = sa.text(
        "UPDATE catalogue_state SET revision = revision + 1 WHERE id = 1 RETURNING revision"
    )
    return int(session.execute(statement).scalar_one())


def lock_catalogue(session: Session) -> None:
    """Take the catalogue's write lock for the rest of the transaction, before reading.

    Every catalogue write bumps `catalogue_state.revision`, so holding that row serialises a bulk
    write with every edit: on PostgreSQL the row lock, on SQLite the database's write lock (this
    no-op UPDATE begins the transaction)."""
    session.execute(sa.text("UPDATE catalogue_state SET revision = revision WHERE id = 1"))


def load_sources(session: Session) -> list[Source]:
    rows = session.exec(select(SourceRow).order_by(sa.column("id"))).all()
    return [Source.model_validate(row.model_dump(exclude_none=True)) for row in rows]


class ChangedExercise(NamedTuple):
    slug: str
    status: str
    version: int
    revision: int
    document_json: str
    updated_at: datetime


def changed_exercises(
    session: Session, since_revision: int, after_slug: str, limit: int
) -> list[ChangedExercise]:
    """Up to `limit` exercises changed after `since_revision`, in any status, in slug order after
    `after_slug`, with their documents as JSON text: one batch of a load, which pages through
    the slug index so each batch is a short query of its own.

    After the first load (`since_revision` >= 0) the changed rows are found through the revision
    index first, then read by slug: a refresh after one edit reads that row, where reading the
    slug index in order and filtering on the revision (what SQLite chose, its statistics saying
    every row shares one revision after a bulk load) passed over every row."""
    changed = col(ExerciseRow.revision) > since_revision
    if since_revision >= 0:
        changed = col(ExerciseRow.slug).in_(sa.select(col(ExerciseRow.slug)).where(changed))
    statement = (
        sa.select(
            col(ExerciseRow.slug),
            col(ExerciseRow.status),
            col(ExerciseRow.version),
            col(ExerciseRow.revision),
            sa.cast(col(ExerciseRow.document), sa.Text),
            col(ExerciseRow.updated_at),
        )
        .where(changed, col(ExerciseRow.slug) > after_slug)
        .order_by(col(ExerciseRow.slug))
        .limit(limit)
    )
    return [ChangedExercise(*row) for row in session.execute(statement)]


def _scalar_columns(exercise: Exercise) -> dict[str, Any]:
    return {
        "status": exercise.status.value,
        "name": exercise.name,
    }


def exercise_row(session: Session, slug: str) -> ExerciseRow | None:
    return session.exec(select(ExerciseRow).where(col(ExerciseRow.slug) == slug)).first()


@dataclass(frozen=True)
class EditorListing:
    """What editors list: any status (or only these), text in the name or slug, a page of rows
    after a slug, in slug order, or in name order for people reading a whole list."""

    statuses: tuple[str, ...] = ()
    text: str | None = None
    after_slug: str | None = None
    limit: int | None = None
    by_name: bool = False


def list_exercise_rows(session: Session, listing: EditorListing) -> list[ExerciseRow]:
    order = (col(ExerciseRow.name), col(ExerciseRow.slug)) if listing.by_name else ()
    statement = select(ExerciseRow).order_by(*order, col(ExerciseRow.slug))
    if listing.statuses:
        statement = statement.where(col(ExerciseRow.status).in_(listing.statuses))
    if listing.text:
        pattern = f"%{listing.text}%"
        statement = statement.where(
            col(ExerciseRow.name).ilike(pattern) | col(ExerciseRow.slug).ilike(pattern)
        )
    if listing.after_slug is not None:
        statement = statement.where(col(ExerciseRow.slug) > listing.after_slug)
    if listing.limit is not None:
        statement = statement.limit(listing.limit)
    return list(session.exec(statement).all())


def insert_exercise(
    session: Session, exercise: Exercise, revision: int, seed_hash: str | None = None
) -> ExerciseRow:
    now = datetime.now(UTC)
    row = ExerciseRow(
        slug=exercise.slug,
        version=1,
        revision=revision,
        seed_hash=seed_hash,
        document=exercise.model_dump(mode="json"),
        created_at=now,
        updated_at=now,
        **_scalar_columns(exercise),
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    record_version(session, row.id, 1, row.document, now)
    replace_progressions(session, exercise.slug, progression_links(row.document))
    return row


def update_exercise(
    session: Session,
    exercise: Exercise,
    expected_version: int,
    revision: int,
    seed_hash: str | None = None,
    before: dict[str, Any] | None = None,
) -> bool:
    """Write a new version only if the stored one is still `expected_version` (compare-and-set):
    of two writers starting from the same version, exactly one gets True. Only seed passes
    `seed_hash`; every other writer leaves it, which is how seed knows the row was edited.
    `before`, the document being replaced, spares rewriting progression links it already has."""
    seeded = {"seed_hash": seed_hash} if seed_hash is not None else {}
    document = exercise.model_dump(mode="json")
    now = datetime.now(UTC)
    statement = (
        sa.update(ExerciseRow)
        .where(col(ExerciseRow.slug) == exercise.slug, col(ExerciseRow.version) == expected_version)
        .values(
            document=document,
            version=expected_version + 1,
            revision=revision,
            updated_at=now,
            **_scalar_columns(exercise),
            **seeded,
        )
        .returning(col(ExerciseRow.id))
        .execution_options(synchronize_session=False)
    )
    written = session.execute(statement).scalar_one_or_none()
    if written is None:
        return False
    record_version(session, written, expected_version + 1, document, now)
    links = progression_links(document)
    if before is None or progression_links(before) != links:
        replace_progressions(session, exercise.slug, links, replacing=True)
    return True


Link = tuple[str, str]
"""(direction, target slug): one progression link of an exercise."""
DIRECTIONS = ("easier", "harder")


def progression_links(document: dict[str, Any]) -> frozenset[Link]:
    """A stored document's progression links."""
    progressions = document.get("progressions") or {}
    return frozenset(
        (direction, target)
        for direction in DIRECTIONS
        for target in progressions.get(direction, ())
    )


def replace_progressions(
    session: Session, slug: str, links: frozenset[Link], replacing: bool = False
) -> None:
    """Keep `exercise_progression` equal to the document's links: one DELETE (when `replacing`
    links written before) and one INSERT of all of them."""
    table = ExerciseProgressionRow.__table__  # type: ignore[attr-defined]
    if replacing:
        session.execute(sa.delete(table).where(table.c.exercise_slug == slug))
    if links:
        rows = [
            {"exercise_slug": slug, "direction": direction, "target_slug": target}
            for direction, target in sorted(links)
        ]
        session.execute(sa.insert(table), rows)


class Component(NamedTuple):
    """What an edit's link check reads: the stored exercises joined to the edited one and
    their links, and which of the slugs it names exist."""

    links: dict[str, set[Link]]
    existing: set[str]


def linked_component(session: Session, slug: str, linked: set[str], named: set[str]) -> Component:
    """The stored exercises joined to `slug` by progression links, either way, at any depth,
    each with its stored links, when `slug`'s own links are `linked` (its stored ones are left
    out: they are being replaced); and which of `linked` and `named` are stored exercises. A
    recursive query over the link table's two indexes, then the members' links: they read the
    component, whatever the size of the catalogue."""
    links = ExerciseProgressionRow.__table__.alias("link")  # type: ignore[attr-defined]
    exercise = ExerciseRow.__table__  # type: ignore[attr-defined]
    seeds = sa.select(exercise.c.slug.label("slug")).where(
        exercise.c.slug.in_(sorted(linked | {slug}))
    )
    component = seeds.cte("component", recursive=True)
    step = (
        sa.select(
            sa.case(
                (links.c.exercise_slug == component.c.slug, links.c.target_slug),
                else_=links.c.exercise_slug,
            )
        )
        .select_from(component)
        .join(
            links,
            sa.or_(
                links.c.exercise_slug == component.c.slug, links.c.target_slug == component.c.slug
            ),
        )
        .where(links.c.exercise_slug != slug)
    )
    component = component.union(step)
    members = sa.select(sa.literal(True).label("member"), component.c.slug)
    existing = sa.select(sa.literal(False), exercise.c.slug).where(
        exercise.c.slug.in_(sorted(linked | named))
    )
    found = Component({}, set())
    for member, found_slug in session.execute(members.union_all(existing)):
        if member and found_slug != slug:
            found.links[found_slug] = set()
        elif not member:
            found.existing.add(found_slug)
    if found.links:
        # a query of its own: joined to the recursive query, the planner expects a large
        # component and reads the whole link table
        statement = sa.select(links.c.exercise_slug, links.c.direction, links.c.target_slug).where(
            links.c.exercise_slug.in_(sorted(found.links))
        )
        for member, direction, target in session.execute(statement):
            found.links[member].add((direction, target))
    return found


def record_version(
    session: Session, exercise_id: int, version: int, document: dict[str, Any], at: datetime
) -> None:
    """Keep the version just written, beside the row, in the writer's transaction."""
    session.add(
        ExerciseVersionRow(
            exercise_id=exercise_id,
            version=version,
            status=document["status"],
            document=document,
            recorded_at=at,
        )
    )
    session.flush()


class StoredVersion(NamedTuple):
    """One kept version of an exercise: its number, status, when it was written, its record."""

    version: int
    status: str
    recorded_at: datetime
    document: dict[str, Any]


def exercise_versions(
    session: Session, slug: str, statuses: tuple[str, ...], version: int | None = None
) -> list[StoredVersion]:
    """The kept versions of an exercise in these statuses, oldest first (or only `version`)."""
    statement = (
        sa.select(
            col(ExerciseVersionRow.version),
            col(ExerciseVersionRow.status),
            col(ExerciseVersionRow.recorded_at),
            col(ExerciseVersionRow.document),
        )
        .join(ExerciseRow, col(ExerciseRow.id) == col(ExerciseVersionRow.exercise_id))
        .where(col(ExerciseRow.slug) == slug, col(ExerciseVersionRow.status).in_(statuses))
        .order_by(col(ExerciseVersionRow.version))
    )
    if version is not None:
        statement = statement.where(col(ExerciseVersionRow.version) == version)
    return [StoredVersion(*row) for row in session.execute(statement)]


class SeedState(NamedTuple):
    """What seed needs to know of a stored exercise."""

    slug: str
    version: int
    document: dict[str, Any]
    seed_hash: str | None
    last_changed_by_seed: bool = False


def exercise_documents(session: Session) -> list[tuple[str, dict[str, Any]]]:
    """Every exercise's stored document, in any status, in slug order."""
    statement = sa.select(col(ExerciseRow.slug), col(ExerciseRow.document)).order_by(
        col(ExerciseRow.slug)
    )
    return [(slug, document) for slug, document in session.execute(statement)]


def seed_states(session: Session) -> list[SeedState]:
    statement = sa.select(
        col(ExerciseRow.slug),
        col(ExerciseRow.version),
        col(ExerciseRow.document),
        col(ExerciseRow.seed_hash),
    )
    return [SeedState(*row) for row in session.execute(statement)]


def set_seed_hash(session: Session, slug: str, seed_hash: str) -> None:
    """Record that a row's document is the seed document with this hash (no new version)."""
    statement = (
        sa.update(ExerciseRow)
        .where(col(ExerciseRow.slug) == slug)
        .values(seed_hash=seed_hash)
        .execution_options(synchronize_session=False)
    )
    session.execute(statement)


def stored_exercise(row: ExerciseRow) -> Exercise | None:
    """A row's document as this code's model; None when it does not validate (newer code)."""
    try:
        return Exercise.model_validate(row.document)
    except ValidationError:
        return None


def apply_sources(session: Session, sources: list[Source]) -> bool:
    changed = False
    for source in sources:
        values = source.model_dump(mode="json")
        row = session.get(SourceRow, source.id)
        if row is None:
            session.add(SourceRow(**values))
            changed = True
        elif any(getattr(row, key) != value for key, value in values.items()):
            row.sqlmodel_update(values)
            session.add(row)
            changed = True
    session.flush()
    return changed
