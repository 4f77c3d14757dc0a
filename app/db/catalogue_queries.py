"""Reads and writes of catalogue rows. Writers never commit: the caller's unit of work does."""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from app.content.bundle import ContentBundle
from app.db.models import CatalogueStateRow, ExerciseRow, SourceRow
from app.domain.exercise import Exercise, Source


@dataclass
class ApplyReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    revision: int | None = None

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)

    def counts(self) -> dict[str, int]:
        return {
            "created": len(self.created),
            "updated": len(self.updated),
            "unchanged": len(self.unchanged),
        }


def current_revision(session: Session) -> int:
    return session.exec(select(CatalogueStateRow.revision).where(CatalogueStateRow.id == 1)).one()


def bump_revision(session: Session) -> int:
    """Take the next catalogue revision. On Postgres the row lock also serialises writers."""
    statement = sa.text(
        "UPDATE catalogue_state SET revision = revision + 1 WHERE id = 1 RETURNING revision"
    )
    return int(session.execute(statement).scalar_one())


def load_sources(session: Session) -> list[Source]:
    rows = session.exec(select(SourceRow).order_by(sa.column("id"))).all()
    return [Source.model_validate(row.model_dump(exclude_none=True)) for row in rows]


def load_exercise_rows(session: Session, since_revision: int = -1) -> list[ExerciseRow]:
    """Rows changed after `since_revision` (all rows by default), in any status."""
    statement = select(ExerciseRow).where(ExerciseRow.revision > since_revision)
    return list(session.exec(statement).all())


def _scalar_columns(exercise: Exercise) -> dict[str, Any]:
    return {
        "status": exercise.status.value,
        "name": exercise.name,
        "category": exercise.category.value,
        "level": exercise.level.value,
        "position": exercise.position.value,
        "spinal_motion": exercise.spinal_motion.value,
    }


def apply_bundle(session: Session, bundle: ContentBundle) -> ApplyReport:
    """Create or update every source and exercise of a validated bundle, idempotently."""
    report = ApplyReport()
    sources_changed = _apply_sources(session, bundle.sources)
    existing = {row.slug: row for row in session.exec(select(ExerciseRow)).all()}
    now = datetime.now(UTC)
    pending: list[tuple[ExerciseRow | None, Exercise, dict[str, Any]]] = []
    for exercise in bundle.exercises:
        document = exercise.model_dump(mode="json")
        row = existing.get(exercise.slug)
        if row is not None and row.document == document:
            report.unchanged.append(exercise.slug)
        else:
            pending.append((row, exercise, document))
    if not pending and not sources_changed:
        return report
    report.revision = bump_revision(session)
    for row, exercise, document in pending:
        if row is None:
            session.add(
                ExerciseRow(
                    slug=exercise.slug,
                    version=1,
                    revision=report.revision,
                    document=document,
                    created_at=now,
                    updated_at=now,
                    **_scalar_columns(exercise),
                )
            )
            report.created.append(exercise.slug)
        else:
            row.sqlmodel_update(
                {
                    "document": document,
                    "version": row.version + 1,
                    "revision": report.revision,
                    "updated_at": now,
                    **_scalar_columns(exercise),
                }
            )
            session.add(row)
            report.updated.append(exercise.slug)
    session.flush()
    return report


def _apply_sources(session: Session, sources: list[Source]) -> bool:
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
