"""exercise_media: the files of images editors attach to exercises

Each row holds an image as it was re-encoded (metadata stripped), its thumbnail, and the SHA-256
that names its URL. The published record of each image (licence, author, source, alt text) is
part of the exercise's document.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "exercise_media",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("exercise_id", sa.Integer(), nullable=False),
        sa.Column("media_id", sa.String(length=12), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=20), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("thumbnail", sa.LargeBinary(), nullable=False),
        sa.Column("thumbnail_width", sa.Integer(), nullable=False),
        sa.Column("thumbnail_height", sa.Integer(), nullable=False),
        sa.Column("exercise_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["exercise_id"], ["exercise.id"], name=op.f("fk_exercise_media_exercise_id_exercise")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exercise_media")),
        sa.UniqueConstraint(
            "exercise_id", "media_id", name=op.f("uq_exercise_media_exercise_id_media_id")
        ),
    )
    op.create_index(
        op.f("ix_exercise_media_exercise_id"), "exercise_media", ["exercise_id"], unique=False
    )
    op.create_index(op.f("ix_exercise_media_sha256"), "exercise_media", ["sha256"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_exercise_media_sha256"), table_name="exercise_media")
    op.drop_index(op.f("ix_exercise_media_exercise_id"), table_name="exercise_media")
    op.drop_table("exercise_media")
