"""Tables. The full exercise record lives in `document`; the scalar columns beside it exist for
editors' queries and constraints. `revision` is the catalogue revision of the row's last change, so
another process can load just what changed since it last looked."""

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Field, SQLModel

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION

JSONDocument = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


class UTCDateTime(sa.TypeDecorator[datetime]):
    """An aware UTC timestamp on every store: SQLite keeps no zone, so reads get UTC back."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def utc_timestamp() -> UTCDateTime:
    return UTCDateTime()


class SourceRow(SQLModel, table=True):
    __tablename__ = "source"

    id: str = Field(primary_key=True, max_length=80)
    title: str = Field(max_length=200)
    publisher_kind: str = Field(max_length=40)
    seed_file: str = Field(max_length=200)
    author: str | None = Field(default=None, max_length=200)
    notes: str | None = Field(default=None, max_length=2000)


class ExerciseRow(SQLModel, table=True):
    __tablename__ = "exercise"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=80, unique=True)
    status: str = Field(max_length=20, index=True)
    version: int = Field(default=1)
    revision: int = Field(index=True)
    name: str = Field(max_length=200)
    """A copy of the document's name, for the editors' list (ordered and searched by name)."""
    document: dict[str, Any] = Field(sa_type=JSONDocument)
    created_at: datetime = Field(sa_type=utc_timestamp())
    updated_at: datetime = Field(sa_type=utc_timestamp())
    seed_hash: str | None = Field(default=None, max_length=64)
    """The content hash of the seed document this row was last seeded from (None: never seeded).
    Only `seed` writes it, so a row whose document no longer hashes to it was edited since."""


class ExerciseVersionRow(SQLModel, table=True):
    """Every version of an exercise as it was written, kept when the exercise moves on, so a
    routine's `url|version` reference keeps resolving. Written in the same transaction as the
    exercise row (app.db.catalogue_queries), never updated."""

    __tablename__ = "exercise_version"
    __table_args__ = (sa.UniqueConstraint("exercise_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    exercise_id: int = Field(foreign_key="exercise.id", index=True)
    version: int
    status: str = Field(max_length=20)
    document: dict[str, Any] = Field(sa_type=JSONDocument)
    recorded_at: datetime = Field(sa_type=utc_timestamp())


class ExerciseProgressionRow(SQLModel, table=True):
    """One progression link of an exercise (any status): `exercise_slug` names `target_slug` as
    `direction` (easier or harder). A copy of the document's `progressions`, written with it
    (app.db.catalogue_queries), so an edit finds the exercises linked to it, either way and at
    any depth, with one indexed query instead of reading every document."""

    __tablename__ = "exercise_progression"

    exercise_slug: str = Field(
        foreign_key="exercise.slug", primary_key=True, index=True, max_length=80
    )
    direction: str = Field(primary_key=True, max_length=10)
    target_slug: str = Field(primary_key=True, index=True, max_length=80)


class ExerciseMediaRow(SQLModel, table=True):
    """The stored file of an image attached to an exercise: its re-encoded bytes (named by their
    SHA-256) and its thumbnail. The record the catalogue publishes (licence, author, source,
    alt text, size) lives in the exercise's document, versioned and audited with it; this row
    is what its URL serves while a published version lists it. Written with the edit that
    attaches it; deleted with the edit that removes it."""

    __tablename__ = "exercise_media"
    __table_args__ = (sa.UniqueConstraint("exercise_id", "media_id"),)

    id: int | None = Field(default=None, primary_key=True)
    exercise_id: int = Field(foreign_key="exercise.id", index=True)
    media_id: str = Field(max_length=12)
    sha256: str = Field(max_length=64, index=True)
    content_type: str = Field(max_length=20)
    width: int
    height: int
    data: bytes = Field(sa_type=sa.LargeBinary)
    thumbnail: bytes = Field(sa_type=sa.LargeBinary)
    thumbnail_width: int
    thumbnail_height: int
    exercise_version: int
    """The exercise's version the attaching edit made."""
    created_at: datetime = Field(sa_type=utc_timestamp())
    created_by: str = Field(max_length=80)


class CatalogueStateRow(SQLModel, table=True):
    """One row: the catalogue's revision, bumped in the same transaction as every change."""

    __tablename__ = "catalogue_state"

    id: int = Field(default=1, primary_key=True)
    revision: int = Field(default=0)


class DeploymentSecretRow(SQLModel, table=True):
    """One row, made by migration 0007: the secret admin sessions and paging cursors are signed
    with unless settings name one, so every process on this database signs alike."""

    __tablename__ = "deployment_secret"

    id: int = Field(default=1, primary_key=True)
    value: str = Field(max_length=100)


class RoutineDictionaryRow(SQLModel, table=True):
    """What routines are compressed against: the published exercises of one catalogue state, as
    the API serialises them. Keyed by the SHA-256 of the content, so every process building the
    dictionary for the same catalogue agrees on one row. It holds no personal data."""

    __tablename__ = "routine_dictionary"

    id: str = Field(primary_key=True, max_length=64)
    content: bytes = Field(sa_type=sa.LargeBinary)
    created_at: datetime = Field(sa_type=utc_timestamp())


class RoutineRow(SQLModel, table=True):
    """A generated routine, stored as the snapshot the API returned: never a join on exercises.

    A deleted routine stays as a tombstone (id, created_at, deleted_at; everything else cleared)
    while a later routine or a feedback still names it."""

    __tablename__ = "routine"

    id: str = Field(primary_key=True, max_length=36)
    created_at: datetime = Field(sa_type=utc_timestamp(), index=True)
    outcome: str = Field(max_length=20)
    previous_routine_id: str | None = Field(
        default=None, foreign_key="routine.id", index=True, max_length=36
    )
    dictionary_id: str | None = Field(
        default=None, foreign_key="routine_dictionary.id", index=True, max_length=64
    )
    document_zstd: bytes | None = Field(default=None, sa_type=sa.LargeBinary)
    """The JSON the API returned, zstd-compressed against `dictionary_id` (none when null); it
    is only ever read back whole. Null for a tombstone."""
    delete_token_hash: str | None = Field(default=None, max_length=64)
    idempotency_key_hash: str | None = Field(default=None, max_length=64, unique=True)
    deleted_at: datetime | None = Field(default=None, sa_type=utc_timestamp())


class RoutineFeedbackRow(SQLModel, table=True):
    """How a session went; at most one per routine, linking it to the routine generated next."""

    __tablename__ = "routine_feedback"

    id: int | None = Field(default=None, primary_key=True)
    routine_id: str = Field(foreign_key="routine.id", unique=True, max_length=36)
    created_at: datetime = Field(sa_type=utc_timestamp())
    pain_before: int
    pain_after: int
    completed: bool
    difficulty: str = Field(max_length=20)
    new_leg_symptoms: bool
    recommendation: str = Field(max_length=40)
    rule: str = Field(max_length=80)
    next_routine_id: str | None = Field(
        default=None, foreign_key="routine.id", index=True, max_length=36
    )
    document: dict[str, Any] = Field(sa_type=JSONDocument)
    """The feedback as the API returns it."""
    idempotency_key_hash: str | None = Field(default=None, max_length=64)
    """The SHA-256 of the Idempotency-Key it was given with (scoped to this routine's feedback),
    so a retry with that key replays the answer."""


class ApiKeyRow(SQLModel, table=True):
    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80, unique=True)
    role: str = Field(max_length=20)
    key_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(sa_type=utc_timestamp())
    revoked_at: datetime | None = Field(default=None, sa_type=utc_timestamp())


class AdminSessionRow(SQLModel, table=True):
    """One admin UI session, from log-in until log-out (or its key's revocation): the cookie
    names it, so ending it here ends it for every copy of the cookie."""

    __tablename__ = "admin_session"

    id: str = Field(primary_key=True, max_length=64)
    """The SHA-256 of the session id the signed cookie carries (never the id itself)."""
    api_key_id: int = Field(foreign_key="api_key.id", index=True)
    created_at: datetime = Field(sa_type=utc_timestamp())
    ended_at: datetime | None = Field(default=None, sa_type=utc_timestamp())


class AuditEntryRow(SQLModel, table=True):
    """Who changed what, when: the exercise document before and after."""

    __tablename__ = "audit_entry"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=utc_timestamp(), index=True)
    actor: str = Field(max_length=80)
    action: str = Field(max_length=20)
    exercise_slug: str = Field(max_length=80, index=True)
    before: dict[str, Any] | None = Field(default=None, sa_type=JSONDocument)
    after: dict[str, Any] | None = Field(default=None, sa_type=JSONDocument)
