"""routine_feedback: idempotency_key_hash, so a retried feedback replays its answer

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("routine_feedback") as batch:
        batch.add_column(sa.Column("idempotency_key_hash", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("routine_feedback") as batch:
        batch.drop_column("idempotency_key_hash")
