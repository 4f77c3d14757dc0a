"""One maintenance command at a time per database.

`migrate` and `seed` run under this lock, so several replicas starting at once (the Dockerfile
runs migrate, then seed, then serve) take turns, and the later ones find nothing left to do.

- PostgreSQL: a session-level advisory lock, held on a connection of its own for the command.
- SQLite: an exclusive `flock` on a file beside the database (`<database>.maintenance.lock`):
  SQLite's own locking would let two migrators both find a table missing and both create it.
- An in-memory SQLite database belongs to one process and needs none.
"""

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

ADVISORY_LOCK_KEY = int.from_bytes(b"backcare", "big") >> 1
"""Any bigint that no other application on the server uses: "backcare" as 63 bits."""


@contextmanager
def maintenance_lock(database_url: str) -> Iterator[None]:
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        with _advisory_lock(database_url):
            yield
    elif url.database and url.database != ":memory:":
        with _file_lock(Path(f"{url.database}.maintenance.lock")):
            yield
    else:
        yield


@contextmanager
def _advisory_lock(database_url: str) -> Iterator[None]:
    engine = sa.create_engine(database_url, poolclass=sa.NullPool)
    try:
        with engine.connect() as connection:
            key = {"key": ADVISORY_LOCK_KEY}
            connection.execute(sa.text("SELECT pg_advisory_lock(:key)"), key)
            connection.commit()
            try:
                yield
            finally:
                connection.execute(sa.text("SELECT pg_advisory_unlock(:key)"), key)
                connection.commit()
    finally:
        engine.dispose()


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
