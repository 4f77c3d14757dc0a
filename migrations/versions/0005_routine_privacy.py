"""routine privacy: compressed snapshots, delete tokens, idempotency keys, tombstones

Routines are stored zstd-compressed (against a dictionary of the catalogue they came from, kept
in `routine_dictionary`); existing rows are compressed here without a dictionary. A routine keeps
the SHA-256 of its delete token and of its Idempotency-Key, and `deleted_at` marks a tombstone.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import orjson
import sqlalchemy as sa
import zstandard
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROUTINE = sa.table(
    "routine",
    sa.column("id", sa.String),
    sa.column("document", sa.Text),
    sa.column("document_zstd", sa.LargeBinary),
    sa.column("dictionary_id", sa.String),
    sa.column("deleted_at", sa.DateTime),
)
BATCH = 500
"""Routines compressed per round, so memory stays flat however many there are."""
DICTIONARY = sa.table(
    "routine_dictionary", sa.column("id", sa.String), sa.column("content", sa.LargeBinary)
)


def upgrade() -> None:
    op.create_table(
        "routine_dictionary",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routine_dictionary")),
    )
    with op.batch_alter_table("routine") as batch:
        batch.add_column(sa.Column("dictionary_id", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("document_zstd", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("delete_token_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("idempotency_key_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_foreign_key(
            op.f("fk_routine_dictionary_id_routine_dictionary"),
            "routine_dictionary",
            ["dictionary_id"],
            ["id"],
        )
        batch.create_unique_constraint(
            op.f("uq_routine_idempotency_key_hash"), ["idempotency_key_hash"]
        )
        batch.create_index(op.f("ix_routine_created_at"), ["created_at"])
    connection = op.get_bind()
    compressor = zstandard.ZstdCompressor(level=3, write_checksum=True)
    routine_ids = list(connection.execute(sa.select(ROUTINE.c.id)).scalars())
    for start in range(0, len(routine_ids), BATCH):
        batch_ids = routine_ids[start : start + BATCH]
        documents = connection.execute(
            sa.select(ROUTINE.c.id, ROUTINE.c.document).where(ROUTINE.c.id.in_(batch_ids))
        ).all()
        for routine_id, document in documents:
            connection.execute(
                ROUTINE.update()
                .where(ROUTINE.c.id == routine_id)
                .values(document_zstd=compressor.compress(document.encode()))
            )
    with op.batch_alter_table("routine") as batch:
        batch.drop_column("document")


def downgrade() -> None:
    with op.batch_alter_table("routine") as batch:
        batch.add_column(sa.Column("document", sa.Text(), nullable=True))
    connection = op.get_bind()
    dictionaries = {
        dictionary_id: zstandard.ZstdCompressionDict(
            content, dict_type=zstandard.DICT_TYPE_RAWCONTENT
        )
        for dictionary_id, content in connection.execute(sa.select(DICTIONARY)).all()
    }
    rows = connection.execute(
        sa.select(ROUTINE.c.id, ROUTINE.c.document_zstd, ROUTINE.c.dictionary_id)
    ).all()
    for routine_id, compressed, dictionary_id in rows:
        if compressed is None:
            document = orjson.dumps({"id": routine_id, "deleted": True}).decode()
        else:
            dictionary = dictionaries.get(dictionary_id) if dictionary_id else None
            decompressor = (
                zstandard.ZstdDecompressor(dict_data=dictionary)
                if dictionary
                else zstandard.ZstdDecompressor()
            )
            document = decompressor.decompress(compressed).decode()
        connection.execute(
            ROUTINE.update().where(ROUTINE.c.id == routine_id).values(document=document)
        )
    with op.batch_alter_table("routine") as batch:
        batch.alter_column("document", existing_type=sa.Text(), nullable=False)
        batch.drop_index(op.f("ix_routine_created_at"))
        batch.drop_constraint(op.f("uq_routine_idempotency_key_hash"), type_="unique")
        batch.drop_constraint(
            op.f("fk_routine_dictionary_id_routine_dictionary"), type_="foreignkey"
        )
        batch.drop_column("deleted_at")
        batch.drop_column("idempotency_key_hash")
        batch.drop_column("delete_token_hash")
        batch.drop_column("document_zstd")
        batch.drop_column("dictionary_id")
    op.drop_table("routine_dictionary")
