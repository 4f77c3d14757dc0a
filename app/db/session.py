"""Engines for either store, and running a unit of work on one."""

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import orjson
from sqlalchemy import Connection, Engine, event
from sqlalchemy.engine import make_url
from sqlmodel import create_engine
from starlette.concurrency import run_in_threadpool

Result = TypeVar("Result")


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def build_engine(url: str) -> Engine:
    """An engine for either store; SQLite gets WAL, foreign keys and a busy timeout."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            json_serializer=_json_text,
            json_deserializer=orjson.loads,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=10,
        json_serializer=_json_text,
        json_deserializer=orjson.loads,
    )


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


class Database:
    """Runs a unit of work: inline for the embedded SQLite file (microseconds, no network), in
    the thread pool for a server database so the event loop keeps serving while it waits."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._inline = is_sqlite(str(engine.url))

    async def transaction(self, work: Callable[[Connection], Result]) -> Result:
        def run() -> Result:
            with self.engine.begin() as connection:
                return work(connection)

        return run() if self._inline else await run_in_threadpool(run)

    async def read(self, work: Callable[[Connection], Result]) -> Result:
        """Like `transaction`, for reads: no BEGIN and COMMIT around them."""

        def run() -> Result:
            with self.engine.connect() as connection:
                return work(connection)

        return run() if self._inline else await run_in_threadpool(run)
