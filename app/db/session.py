"""Engines for either store, every wait on them bounded, and running a unit of work on one."""

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import orjson
from sqlalchemy import Connection, Engine, event, exc
from sqlalchemy.engine import make_url
from sqlmodel import create_engine
from starlette.concurrency import run_in_threadpool

Result = TypeVar("Result")

logger = logging.getLogger("app.database")


class DatabaseUnavailableError(Exception):
    """The database cannot serve this request now (for example, its schema is not at the
    migration head); the message says why. Answered 503, like the driver errors below."""


DRIVER_UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (
    exc.OperationalError,  # unreachable, cut, timed out, SQLite busy
    exc.InterfaceError,  # the connection is already closed
    exc.TimeoutError,  # no pooled connection came free in time
    exc.DisconnectionError,
)
"""The driver's errors that mean "the database cannot answer now, try again": answered 503."""

UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (
    DatabaseUnavailableError,
    *DRIVER_UNAVAILABLE_ERRORS,
)


@dataclass(frozen=True)
class DatabaseLimits:
    """How long any wait on the database may last.

    `hold_seconds` bounds how long one unit of work keeps a PostgreSQL connection: past it the
    connection's socket is shut down, so even a path that froze (packets stop, the socket stays
    open, and psycopg would wait forever for an answer) ends in an error. None leaves it
    unbounded (the CLI's one-off commands)."""

    connect_seconds: int = 5
    checkout_seconds: float = 10
    statement_seconds: float = 15
    hold_seconds: float | None = 30
    sqlite_busy_seconds: float = 5


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def build_engine(url: str, limits: DatabaseLimits | None = None) -> Engine:
    """An engine for either store; SQLite gets WAL, foreign keys and a short busy timeout,
    PostgreSQL connect, checkout, statement and hold timeouts. Statement parameters never appear
    in errors or logs: they can hold a person's profile or a hash."""
    limits = limits or DatabaseLimits()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        on_disk = bool(parsed.database) and parsed.database != ":memory:"
        if on_disk:
            Path(str(parsed.database)).parent.mkdir(parents=True, exist_ok=True)
        pooled = {"pool_timeout": limits.checkout_seconds} if on_disk else {}
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": limits.sqlite_busy_seconds},
            hide_parameters=True,
            json_serializer=_json_text,
            json_deserializer=orjson.loads,
            **pooled,
        )
        busy_ms = round(limits.sqlite_busy_seconds * 1000)
        event.listen(engine, "connect", lambda dbapi, _record: _sqlite_pragmas(dbapi, busy_ms))
        return engine
    options = parsed.query.get("options", "")
    statement_timeout = f"-c statement_timeout={round(limits.statement_seconds * 1000)}"
    engine = create_engine(
        url,
        hide_parameters=True,
        pool_size=10,
        max_overflow=10,
        pool_timeout=limits.checkout_seconds,
        connect_args={
            "connect_timeout": limits.connect_seconds,
            "options": f"{options} {statement_timeout}".strip(),
        },
        json_serializer=_json_text,
        json_deserializer=orjson.loads,
    )
    _WATCHDOG.guard(engine, limits.hold_seconds)
    return engine


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


def _sqlite_pragmas(connection: Any, busy_ms: int) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
    cursor.close()


class ConnectionWatchdog:
    """Bounds how long a unit of work holds a PostgreSQL connection, pings included.

    statement_timeout is enforced by the server, so it cannot help when the path to the server
    froze: the server's error never arrives and psycopg has no read timeout of its own. Every
    checkout is registered with a deadline; one thread shuts down the socket of a connection
    still held past it, which makes the waiting driver call fail at once with a disconnect
    error (the pool then discards that connection). The pool's pre-ping runs before checkout
    listeners, so the ping is done here instead, inside the bound.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[Any, tuple[float, Any]] = {}
        self._thread: threading.Thread | None = None

    def guard(self, engine: Engine, hold_seconds: float | None) -> None:
        dialect = engine.dialect

        def checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
            if hold_seconds is not None:
                self._hold(record, dbapi_connection, hold_seconds)
            if not getattr(record, "info", {}).pop("fresh", False):
                self._ping(dialect, dbapi_connection)

        def connected(_dbapi_connection: Any, record: Any) -> None:
            record.info["fresh"] = True

        def released(_dbapi_connection: Any, record: Any, *_rest: Any) -> None:
            with self._lock:
                self._held.pop(record, None)

        event.listen(engine, "connect", connected)
        event.listen(engine, "checkout", checked_out)
        for name in ("checkin", "invalidate", "close", "detach"):
            event.listen(engine, name, released)

    def _hold(self, record: Any, dbapi_connection: Any, hold_seconds: float) -> None:
        with self._lock:
            self._held[record] = (time.monotonic() + hold_seconds, dbapi_connection)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._watch, name="database-watchdog", daemon=True
                )
                self._thread.start()

    @staticmethod
    def _ping(dialect: Any, dbapi_connection: Any) -> None:
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                raise exc.InvalidatePoolError() from error
            raise

    def _watch(self) -> None:
        while True:
            time.sleep(0.1)
            now = time.monotonic()
            with self._lock:
                overdue = [key for key, (deadline, _) in self._held.items() if deadline <= now]
                for key in overdue:
                    _deadline, dbapi_connection = self._held.pop(key)
                    _cut(dbapi_connection)


def _cut(dbapi_connection: Any) -> None:
    """Shut down the connection's socket (not close its descriptor, which the driver owns)."""
    try:
        duplicate = os.dup(dbapi_connection.fileno())
    except Exception:  # already closed: nothing left to cut
        return
    with socket.socket(fileno=duplicate) as sock:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            return
    logger.warning("database connection cut: held past its time limit without an answer")


_WATCHDOG = ConnectionWatchdog()


STORAGE_FAILURES = (
    "disk is full",  # SQLite
    "no space left on device",  # PostgreSQL, and SQLite's journal
    "could not extend file",  # PostgreSQL
    "read-only",  # SQLite's file or a read-only file system; PostgreSQL in recovery
)


def out_of_storage(error: Exception) -> bool:
    """Whether a write failed because the database cannot store anything now (as opposed to
    not answering at all, which reads notice too)."""
    text = str(error).lower()
    return any(failure in text for failure in STORAGE_FAILURES)


class Database:
    """Runs a unit of work in the thread pool, never on the event loop: even SQLite can wait
    (on another writer's lock, up to its busy timeout), and the loop must keep serving.

    SQLite takes one writer at a time. This process's writers queue on a lock of their own
    rather than in SQLite's busy handler, which polls with sleeps of up to 100 ms and so turns
    contention into a long tail; the busy timeout is left for writers in other processes."""

    def __init__(
        self,
        engine: Engine,
        require_ready: Callable[[], None] = lambda: None,
        write_wait_seconds: float = DatabaseLimits.sqlite_busy_seconds,
    ) -> None:
        self.engine = engine
        self._require_ready = require_ready
        self._sqlite_writer = threading.Lock() if is_sqlite(str(engine.url)) else None
        self._write_wait_seconds = write_wait_seconds
        self.last_write_failure: tuple[float, str] | None = None
        """When (time.monotonic()) and why the last write failed for want of storage (a full
        disk, a read-only file system); None once a write succeeds. Readiness reads it: such a
        database answers every read and refuses every write."""

    async def transaction(
        self, work: Callable[[Connection], Result], prepare: Callable[[], object] | None = None
    ) -> Result:
        """Run `work` in one transaction. `prepare`, work that needs no connection (compressing
        a routine), runs first in the same worker thread, before this process's writers queue:
        the event loop never does it, and no writer waits for it."""
        self._require_ready()

        def run() -> Result:
            if prepare is not None:
                prepare()
            with self._one_writer(), self.engine.begin() as connection:
                return work(connection)

        try:
            result = await run_in_threadpool(run)
        except DRIVER_UNAVAILABLE_ERRORS as error:
            if out_of_storage(error):
                self.last_write_failure = (time.monotonic(), str(error).splitlines()[0][:200])
            raise
        self.last_write_failure = None
        return result

    @contextmanager
    def _one_writer(self) -> Iterator[None]:
        if self._sqlite_writer is None:
            yield
            return
        if not self._sqlite_writer.acquire(timeout=self._write_wait_seconds):
            raise DatabaseUnavailableError(
                f"Other writes kept the database busy for {self._write_wait_seconds} s."
            )
        try:
            yield
        finally:
            self._sqlite_writer.release()

    async def read(self, work: Callable[[Connection], Result]) -> Result:
        """Like `transaction`, for reads: no BEGIN and COMMIT around them."""
        self._require_ready()

        def run() -> Result:
            with self.engine.connect() as connection:
                return work(connection)

        return await run_in_threadpool(run)
