"""The audit trail: one row per change to an exercise."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from app.db.models import AuditEntryRow


def record_change(
    session: Session,
    actor: str,
    action: str,
    slug: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    session.add(
        AuditEntryRow(
            at=datetime.now(UTC),
            actor=actor,
            action=action,
            exercise_slug=slug,
            before=before,
            after=after,
        )
    )


@dataclass(frozen=True)
class AuditQuery:
    exercise: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    older_than_id: int | None = None
    """Only entries older than this one (the last id of the previous page): paging newest first."""
    limit: int = 50


def list_changes(session: Session, query: AuditQuery) -> tuple[list[AuditEntryRow], bool]:
    """Newest first; returns the page and whether more entries follow."""
    statement = select(AuditEntryRow).order_by(col(AuditEntryRow.id).desc())
    if query.exercise is not None:
        statement = statement.where(col(AuditEntryRow.exercise_slug) == query.exercise)
    if query.since is not None:
        statement = statement.where(col(AuditEntryRow.at) >= query.since)
    if query.until is not None:
        statement = statement.where(col(AuditEntryRow.at) < query.until)
    if query.older_than_id is not None:
        statement = statement.where(col(AuditEntryRow.id) < query.older_than_id)
    rows = list(session.exec(statement.limit(query.limit + 1)).all())
    return rows[: query.limit], len(rows) > query.limit


def last_actor_by_exercise(session: Session) -> dict[str, str]:
    """Who made each exercise's latest recorded change."""
    latest = sa.select(sa.func.max(col(AuditEntryRow.id))).group_by(
        col(AuditEntryRow.exercise_slug)
    )
    statement = sa.select(col(AuditEntryRow.exercise_slug), col(AuditEntryRow.actor)).where(
        col(AuditEntryRow.id).in_(latest)
    )
    return {slug: actor for slug, actor in session.execute(statement)}  # noqa: C416 - rows


SLUGS_PER_QUERY = 500
"""Keeps each IN list well under every store's bound on bound parameters."""


def ever_published(session: Session, slugs: list[str]) -> set[str]:
    """Which of these exercises the audit trail shows published at some point (a client may
    hold them); a draft that never was is nobody's business outside the editors. The state
    before a change counts too, for rows written without an audit entry (bench/catalogue.py)."""
    found: set[str] = set()
    published = sa.or_(
        col(AuditEntryRow.after)["status"].as_string() == "published",
        col(AuditEntryRow.before)["status"].as_string() == "published",
    )
    for start in range(0, len(slugs), SLUGS_PER_QUERY):
        statement = (
            sa.select(col(AuditEntryRow.exercise_slug))
            .where(col(AuditEntryRow.exercise_slug).in_(slugs[start : start + SLUGS_PER_QUERY]))
            .where(published)
            .distinct()
        )
        found.update(session.execute(statement).scalars())
    return found
