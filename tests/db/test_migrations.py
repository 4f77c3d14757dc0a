"""Migrations on each store: empty to head and back to base, and no drift from the models."""

import sqlalchemy as sa
from alembic import command

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
