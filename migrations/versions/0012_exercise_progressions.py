"""exercise_progression: every exercise's progression links as rows, indexed both ways

An edit checks that its exercise's progression links make no cycle. That needs the exercises
linked to it at any depth, both ways; reading them from the documents meant reading every
exercise's document once per process. The links are now kept beside the documents, written in
the same transaction, and found with one indexed query. This migration copies the stored ones.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

POSTGRESQL_LINKS = """
INSERT INTO exercise_progression (exercise_slug, direction, target_slug)
SELECT DISTINCT exercise.slug, direction.name, target.slug
FROM exercise
CROSS JOIN (VALUES ('easier'), ('harder')) AS direction (name)
CROSS JOIN LATERAL jsonb_array_elements_text(
    COALESCE(exercise.document -> 'progressions' -> direction.name, '[]'::jsonb)
) AS target (slug)
"""
SQLITE_LINKS = """
INSERT INTO exercise_progression (exercise_slug, direction, target_slug)
SELECT DISTINCT exercise.slug, direction.name, target.value
FROM exercise
CROSS JOIN (SELECT 'easier' AS name UNION ALL SELECT 'harder') AS direction
CROSS JOIN json_each(exercise.document, '$.progressions.' || direction.name) AS target
"""


def upgrade() -> None:
    op.create_table(
        "exercise_progression",
        sa.Column("exercise_slug", sa.String(length=80), nullable=False),
        sa.Column("direction", sa.String(length=10), nullable=False),
        sa.Column("target_slug", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["exercise_slug"],
            ["exercise.slug"],
            name=op.f("fk_exercise_progression_exercise_slug_exercise"),
        ),
        sa.PrimaryKeyConstraint(
            "exercise_slug", "direction", "target_slug", name=op.f("pk_exercise_progression")
        ),
    )
    op.create_index(
        op.f("ix_exercise_progression_exercise_slug"), "exercise_progression", ["exercise_slug"]
    )
    op.create_index(
        op.f("ix_exercise_progression_target_slug"), "exercise_progression", ["target_slug"]
    )
    dialect = op.get_bind().dialect.name
    op.execute(POSTGRESQL_LINKS if dialect == "postgresql" else SQLITE_LINKS)


def downgrade() -> None:
    op.drop_index(op.f("ix_exercise_progression_target_slug"), table_name="exercise_progression")
    op.drop_index(op.f("ix_exercise_progression_exercise_slug"), table_name="exercise_progression")
    op.drop_table("exercise_progression")
