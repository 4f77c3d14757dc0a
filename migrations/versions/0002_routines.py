"""routines: stored routine snapshots and the feedback that links them

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "routine",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("previous_routine_id", sa.String(length=36), nullable=True),
        sa.Column("document", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["previous_routine_id"],
            ["routine.id"],
            name=op.f("fk_routine_previous_routine_id_routine"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routine")),
    )
    op.create_index(op.f("ix_routine_previous_routine_id"), "routine", ["previous_routine_id"])
    op.create_table(
        "routine_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("routine_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pain_before", sa.Integer(), nullable=False),
        sa.Column("pain_after", sa.Integer(), nullable=False),
        sa.Column("completed", sa.Boolean(), nullable=False),
        sa.Column("difficulty", sa.String(length=20), nullable=False),
        sa.Column("new_leg_symptoms", sa.Boolean(), nullable=False),
        sa.Column("recommendation", sa.String(length=40), nullable=False),
        sa.Column("rule", sa.String(length=80), nullable=False),
        sa.Column("next_routine_id", sa.String(length=36), nullable=True),
        sa.Column("document", JSON_DOCUMENT, nullable=False),
        sa.ForeignKeyConstraint(
            ["next_routine_id"],
            ["routine.id"],
            name=op.f("fk_routine_feedback_next_routine_id_routine"),
        ),
        sa.ForeignKeyConstraint(
            ["routine_id"], ["routine.id"], name=op.f("fk_routine_feedback_routine_id_routine")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routine_feedback")),
        sa.UniqueConstraint("routine_id", name=op.f("uq_routine_feedback_routine_id")),
    )


def downgrade() -> None:
    op.drop_table("routine_feedback")
    op.drop_index(op.f("ix_routine_previous_routine_id"), table_name="routine")
    op.drop_table("routine")
