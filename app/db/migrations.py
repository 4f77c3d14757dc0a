"""Alembic, driven from code: the CLI, start-up checks and tests all go through here."""

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from app.core.settings import PROJECT_ROOT
from app.db.maintenance import maintenance_lock
from app.db.session import DatabaseUnavailableError


def alembic_config(database_url: str) -> Config:
    config = Config(toml_file=str(PROJECT_ROOT / "pyproject.toml"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Migrate up, one migrator at a time: replicas starting together wait for each other."""
    with maintenance_lock(database_url):
        command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    with maintenance_lock(database_url):
        command.downgrade(alembic_config(database_url), revision)


def head_revision(database_url: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()


def schema_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


class SchemaGate:
    """Closed until the database's schema is at the migration head, so that until `migrate` has
    run, data endpoints answer 503 rather than serve an empty (or half-built) catalogue.
    Once open it stays open: it is checked until then, not on every request."""

    def __init__(self, engine: Engine, head: str | None) -> None:
        self._engine = engine
        self.head = head
        self.revision: str | None = None
        self.checked = False

    @property
    def open(self) -> bool:
        return self.checked and self.revision == self.head

    def check(self) -> bool:
        """Read the schema's revision (database I/O) unless already open; True when open."""
        if not self.open:
            self.revision = schema_revision(self._engine)
            self.checked = True
        return self.open

    def require(self) -> None:
        if not self.open:
            raise DatabaseUnavailableError(self.explain())

    def explain(self) -> str:
        if not self.checked:
            return "The database has not answered since this process started."
        return (
            f"The database schema is at {self.revision or 'nothing'}, not at the head "
            f"{self.head}: run `python -m app migrate`."
        )
