"""Every foreign key indexed: routine.dictionary_id and routine_feedback.next_routine_id

Without an index on routine_feedback.next_routine_id, deleting a routine made the database scan
the whole feedback table to check nothing still names it (purging 200,000 routines never ended);
routine.dictionary_id is checked the same way when a dictionary row goes.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(op.f("ix_routine_dictionary_id"), "routine", ["dictionary_id"])
    op.create_index(
        op.f("ix_routine_feedback_next_routine_id"), "routine_feedback", ["next_routine_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_routine_feedback_next_routine_id"), table_name="routine_feedback")
    op.drop_index(op.f("ix_routine_dictionary_id"), table_name="routine")
