"""admin_session: admin UI sessions kept server-side, so logging out ends them

A signed cookie alone stayed valid until it expired (8 hours), logged out or not. The cookie now
names a session row; log-out and key revocation end the row, and with it every copy of the
cookie.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "admin_session",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("api_key_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["api_key_id"], ["api_key.id"], name=op.f("fk_admin_session_api_key_id_api_key")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_session")),
    )
    op.create_index(
        op.f("ix_admin_session_api_key_id"), "admin_session", ["api_key_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_admin_session_api_key_id"), table_name="admin_session")
    op.drop_table("admin_session")
