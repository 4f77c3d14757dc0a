"""exercise: drop category, level, position and spinal_motion, written and never read

Every read takes these from the exercise's document; the columns were copies nothing read.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNREAD_COLUMNS = {"category": 40, "level": 20, "position": 40, "spinal_motion": 20}


def upgrade() -> None:
    with op.batch_alter_table("exercise") as batch:
        for name in UNREAD_COLUMNS:
            batch.drop_column(name)


def downgrade() -> None:
    """The columns come back filled from each exercise's document."""
    with op.batch_alter_table("exercise") as batch:
        for name, length in UNREAD_COLUMNS.items():
            batch.add_column(sa.Column(name, sa.String(length=length), nullable=True))
    exercise = sa.table(
        "exercise",
        sa.column("id", sa.Integer()),
        sa.column("document", sa.JSON()),
        *(sa.column(name, sa.String()) for name in UNREAD_COLUMNS),
    )
    connection = op.get_bind()
    rows = connection.execute(sa.select(exercise.c.id, exercise.c.document)).all()
    for row_id, document in rows:
        values = {name: document[name] for name in UNREAD_COLUMNS}
        connection.execute(exercise.update().where(exercise.c.id == row_id).values(**values))
    with op.batch_alter_table("exercise") as batch:
        for name, length in UNREAD_COLUMNS.items():
            batch.alter_column(name, existing_type=sa.String(length=length), nullable=False)
