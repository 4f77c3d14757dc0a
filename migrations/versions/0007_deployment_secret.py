"""deployment_secret: the one secret a deployment signs with, made here once

Admin sessions and paging cursors are signed. A secret random per process broke both behind a
load balancer (a cursor or a session from one replica refused by the next) unless an operator
set one; made once by this migration and kept in the database every replica shares, it works
with nothing to configure. ADMIN_SESSION_SECRET and CURSOR_SECRET still override it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    table = op.create_table(
        "deployment_secret",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deployment_secret")),
    )
    op.bulk_insert(table, [{"id": 1, "value": secrets.token_urlsafe(32)}])


def downgrade() -> None:
    op.drop_table("deployment_secret")
