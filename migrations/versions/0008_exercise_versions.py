"""exercise_version: every version of every exercise, kept as it was written

A routine names each exercise as `url|version`. Until now only the current version was stored, so
after an edit that reference dangled. Each write now adds the version it makes beside the exercise
row; this migration backfills the current version of every exercise (older ones were not kept).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSONDocument = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "exercise_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("exercise_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("document", JSONDocument, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["exercise_id"],
            ["exercise.id"],
            name=op.f("fk_exercise_version_exercise_id_exercise"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exercise_version")),
        sa.UniqueConstraint(
            "exercise_id", "version", name=op.f("uq_exercise_version_exercise_id_version")
        ),
    )
    op.create_index(
        op.f("ix_exercise_version_exercise_id"), "exercise_version", ["exercise_id"], unique=False
    )
    op.execute(
        "INSERT INTO exercise_version (exercise_id, version, status, document, recorded_at) "
        "SELECT id, version, status, document, updated_at FROM exercise"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_exercise_version_exercise_id"), table_name="exercise_version")
    op.drop_table("exercise_version")
