"""Migrations on each store: empty to head and back to base, and no drift from the models."""

import json

import sqlalchemy as sa
from alembic import command
from sqlmodel import SQLModel

import app.db.models  # noqa: F401  (the tables, into SQLModel.metadata)
from app.cli import seed_database
from app.core.settings import PROJECT_ROOT
from app.db.migrations import alembic_config, downgrade, head_revision, upgrade
from app.db.session import build_engine


def table_names(url: str) -> set[str]:
    engine = build_engine(url)
    names = set(sa.inspect(engine).get_table_names())
    engine.dispose()
    return names


def test_upgrade_to_head_and_back_to_base(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    assert {"exercise", "source", "catalogue_state", "alembic_version"} <= table_names(
        empty_database_url
    )
    downgrade(empty_database_url)
    assert table_names(empty_database_url) <= {"alembic_version"}
    upgrade(empty_database_url)
    assert "exercise" in table_names(empty_database_url)


def test_models_match_migrations(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    command.check(alembic_config(empty_database_url))


def test_head_is_known(empty_database_url: str) -> None:
    assert head_revision(empty_database_url)


def test_the_unread_exercise_columns_come_back_filled_on_downgrade(
    empty_database_url: str,
) -> None:
    """0006 drops four columns nothing read; going back below it refills them from each
    exercise's document, so older code finds them as it wrote them."""
    upgrade(empty_database_url)
    seed_database(empty_database_url, PROJECT_ROOT / "seed")
    downgrade(empty_database_url, "0005")
    engine = build_engine(empty_database_url)
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT category, level, position, spinal_motion, document FROM exercise")
        ).all()
    engine.dispose()
    assert rows
    for category, level, position, spinal_motion, document in rows:
        stored = document if isinstance(document, dict) else json.loads(document)
        assert (category, level, position, spinal_motion) == (
            stored["category"],
            stored["level"],
            stored["position"],
            stored["spinal_motion"],
        )
    upgrade(empty_database_url)


def test_the_current_version_of_every_exercise_is_kept_on_upgrade(
    empty_database_url: str,
) -> None:
    """0008 keeps versions from then on; what was already there is backfilled as its current
    version, with its status and document."""
    upgrade(empty_database_url)
    seed_database(empty_database_url, PROJECT_ROOT / "seed")
    downgrade(empty_database_url, "0007")
    upgrade(empty_database_url)
    engine = build_engine(empty_database_url)
    with engine.connect() as connection:
        current = connection.execute(
            sa.text("SELECT id, version, status FROM exercise ORDER BY id")
        ).all()
        kept = connection.execute(
            sa.text(
                "SELECT exercise_id, version, status FROM exercise_version ORDER BY exercise_id"
            )
        ).all()
    engine.dispose()
    assert current
    assert [tuple(row) for row in kept] == [tuple(row) for row in current]


def leading_columns(columns: list[str | None], width: int) -> tuple[str | None, ...]:
    return tuple(columns[:width])


def test_every_foreign_key_has_an_index(empty_database_url: str) -> None:
    """Each foreign key column leads an index (or a unique constraint or primary key, which
    carry one), in the models and in the migrated database: otherwise deleting a row it points
    at scans the referring table."""
    metadata_keys = [
        (table.name, tuple(column.name for column in key.columns))
        for table in SQLModel.metadata.sorted_tables
        for key in table.foreign_key_constraints
    ]
    assert ("routine_feedback", ("next_routine_id",)) in metadata_keys
    upgrade(empty_database_url)
    engine = build_engine(empty_database_url)
    inspector = sa.inspect(engine)
    for table, columns in metadata_keys:
        width = len(columns)
        indexed = [
            leading_columns(list(index["column_names"]), width)
            for index in inspector.get_indexes(table)
        ]
        indexed += [
            leading_columns(list(unique["column_names"]), width)
            for unique in inspector.get_unique_constraints(table)
        ]
        indexed.append(
            leading_columns(list(inspector.get_pk_constraint(table)["constrained_columns"]), width)
        )
        assert columns in indexed, f"{table}.{', '.join(columns)} has no index"
    engine.dispose()


def test_migrations_form_one_line() -> None:
    """Each migration follows exactly one other: two written side by side must be renumbered."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(scripts.get_heads()) == 1, scripts.get_heads()
    revisions = [script.revision for script in scripts.walk_revisions()]
    assert len(revisions) == len(set(revisions))
