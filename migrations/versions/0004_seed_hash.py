"""seed hash: per exercise, the hash of the seed document it was last seeded from

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("exercise") as batch:
        batch.add_column(sa.Column("seed_hash", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("exercise") as batch:
        batch.drop_column("seed_hash")
