"""Engines for either store, every wait on them bounded, and running a unit of work on one."""

import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
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

    `hold_seconds` bounds how long one unit of work keeps a PostgreSQL connection, unless the
    unit declares a bound of its own (`holding_for`: an import's long transaction). A statement
    sent and not answered within `statement_seconds` (the server's own statement_timeout, so a
    healthy server has answered by then, if only to cancel it) plus `ping_seconds` (a round
    trip) means the path froze: the packets stop, the socket stays open, and psycopg would wait
    forever. Either way the connection's socket is shut down and the wait ends in an error.
    `ping_seconds` also bounds the liveness ping a pooled connection gets at checkout. None
    leaves the hold unbounded."""

    connect_seconds: int = 5
    checkout_seconds: float = 10
    statement_seconds: float = 15
    hold_seconds: float | None = 30
    ping_seconds: float = 2
    sqlite_busy_seconds: float = 5


TCP_KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 3,
    "keepalives_count": 3,
}
"""PostgreSQL connections ask the kernel to probe a silent peer after 10 s and give up after
three unanswered probes 3 s apart: a server host that vanished (powered off, partitioned) ends
its connections' waits in about 20 s at the socket, pooled idle ones included, whatever the
unit of work's bound."""


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def build_engine(url: str, limits: DatabaseLimits | None = None) -> Engine:
    """An engine for either store; SQLite gets WAL, foreign keys and a short busy timeout,
    PostgreSQL connect, checkout, statement, ping and hold timeouts and TCP keepalives.
    Statement parameters never appear in errors or logs: they can hold a person's profile or a
    hash."""
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
            **TCP_KEEPALIVES,
        },
        json_serializer=_json_text,
        json_deserializer=orjson.loads,
    )
    _WATCHDOG.guard(engine, limits)
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


_UNIT_BOUND: ContextVar[float | None] = ContextVar("unit_bound", default=None)


@contextmanager
def holding_for(seconds: float) -> Iterator[None]:
    """Declare how long the units of work begun in this block (in this thread) may hold their
    PostgreSQL connection, in place of DATABASE_HOLD_TIMEOUT_SECONDS: longer for an import's
    one transaction, shorter for a probe. A frozen path is still cut as soon as a statement
    goes unanswered past the server's own timeout, whatever the unit declared."""
    token = _UNIT_BOUND.set(seconds)
    try:
        yield
    finally:
        _UNIT_BOUND.reset(token)


@dataclass
class _Hold:
    """One checked-out connection under watch."""

    dbapi_connection: Any
    since: float
    bound: float | None
    """The unit's bound (None: unbounded)."""
    ping_seconds: float
    answer_seconds: float
    """How long a sent statement may go unanswered: statement_timeout and a round trip."""
    waiting_since: float | None = None
    """When the statement (or commit) now awaiting the server's answer was sent; None between
    them, while the application works."""
    pinging: bool = False


class ConnectionWatchdog:
    """Bounds how long a unit of work holds a PostgreSQL connection, and tells why it cut one.

    statement_timeout is enforced by the server, so it cannot help when the path to the server
    froze: the server's error never arrives and psycopg has no read timeout of its own. Every
    checkout is watched; one thread shuts down the socket of a connection that is

    - pinging at checkout past `ping_seconds` (the pool's pre-ping runs before checkout
      listeners, so the ping is done here instead, inside its own short bound);
    - awaiting one statement's answer past `statement_seconds + ping_seconds`: a frozen path,
      since a healthy server answers by its statement_timeout, if only to cancel;
    - held past its unit's bound (`holding_for`, else `hold_seconds`) while answered: an
      over-long transaction, not a frozen path.

    The shutdown makes the waiting driver call fail at once with a disconnect error (the pool
    then discards that connection), and one log line names which of these it was.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[int, _Hold] = {}
        self._thread: threading.Thread | None = None

    def guard(self, engine: Engine, limits: DatabaseLimits) -> None:
        dialect = engine.dialect

        def checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
            bound = limits.hold_seconds and (_UNIT_BOUND.get() or limits.hold_seconds)
            hold = _Hold(
                dbapi_connection,
                time.monotonic(),
                bound,
                limits.ping_seconds,
                limits.statement_seconds + limits.ping_seconds,
            )
            with self._lock:
                self._held[id(dbapi_connection)] = hold
            if not getattr(record, "info", {}).pop("fresh", False):
                hold.pinging = True
                self._ping(dialect, dbapi_connection)
                hold.pinging = False
                hold.since = time.monotonic()

        def connected(_dbapi_connection: Any, record: Any) -> None:
            record.info["fresh"] = True

        def released(dbapi_connection: Any, *_rest: Any) -> None:
            with self._lock:
                self._held.pop(id(dbapi_connection), None)

        def sending(connection: Connection, *rest: Any) -> None:
            if not (rest and rest[-1]):  # an executemany: its statements are answered apart
                self._waiting(connection, time.monotonic())

        def answered(connection: Connection | None, *_rest: Any) -> None:
            self._waiting(connection, None)

        event.listen(engine, "connect", connected)
        event.listen(engine, "checkout", checked_out)
        for name in ("checkin", "invalidate", "close", "detach"):
            event.listen(engine, name, released)
        event.listen(engine, "before_cursor_execute", sending)
        event.listen(engine, "commit", sending)
        event.listen(engine, "rollback", sending)
        event.listen(engine, "begin", answered)
        event.listen(engine, "after_cursor_execute", answered)
        event.listen(engine, "handle_error", lambda context: answered(context.connection))
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._watch, name="database-watchdog", daemon=True
                )
                self._thread.start()

    def _waiting(self, connection: Connection | None, since: float | None) -> None:
        """Note that `connection` sent something and awaits the answer (`since`), or got it."""
        if connection is None or connection.closed or connection.invalidated:
            return
        hold = self._held.get(id(connection.connection.dbapi_connection))
        if hold is not None:
            hold.waiting_since = since

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
                overdue = [
                    (key, why) for key, hold in self._held.items() if (why := _overdue(hold, now))
                ]
                cut = [(self._held.pop(key), why) for key, why in overdue]
            for hold, why in cut:
                _cut(hold.dbapi_connection, why)


def _overdue(hold: _Hold, now: float) -> str:
    """Why `hold` must be cut now, or "" if it may go on."""
    if hold.pinging:
        if now - hold.since < hold.ping_seconds:
            return ""
        return (
            f"no answer to the liveness ping within {hold.ping_seconds:g} s: the path to the "
            "database froze"
        )
    if hold.waiting_since is not None and now - hold.waiting_since >= hold.answer_seconds:
        return (
            f"no answer to a statement for {now - hold.waiting_since:.1f} s, past the "
            f"server's own statement timeout and a round trip ({hold.answer_seconds:g} s): "
            "the path to the database froze"
        )
    if hold.bound is not None and now - hold.since >= hold.bound:
        doing = "a statement running" if hold.waiting_since is not None else "between statements"
        return (
            f"a unit of work held it {now - hold.since:.1f} s ({doing}), past its bound of "
            f"{hold.bound:g} s: an over-long transaction, the database still answering"
        )
    return ""


def _cut(dbapi_connection: Any, why: str) -> None:
    """Shut down the connection's socket (not close its descriptor, which the driver owns),
    saying why first: the waiting driver call fails as soon as it is shut down."""
    try:
        duplicate = os.dup(dbapi_connection.fileno())
    except Exception:  # already closed: nothing left to cut
        return
    with socket.socket(fileno=duplicate) as sock:
        logger.warning("database connection cut: %s", why)
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


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
        require_reachable: Callable[[], None] = lambda: None,
        write_wait_seconds: float = DatabaseLimits.sqlite_busy_seconds,
    ) -> None:
        self.engine = engine
        self._require_ready = require_ready
        self._require_reachable = require_reachable
        """Before a write, in its worker thread: DatabaseUnavailableError at once while the
        database is known not to answer (see app/db/reachability.py)."""
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
            self._require_reachable()
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
