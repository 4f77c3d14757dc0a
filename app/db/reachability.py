"""Whether the database answered this process's last look: writes fail fast while it did not.

The catalogue refresher looks several times a second. While its last look failed (the database
down, or the path to it frozen), a write would only wait out the connect, ping or hold bounds
(seconds) to fail the same way; instead it gets a 503 with Retry-After at once. Recovery is
noticed by the writes themselves: a write that finds the database marked unreachable looks
again (one look at a time, shared by every write arriving meanwhile, through the pool with a
short bound) and waits at most `probe_wait_seconds` for it, so the first write after the
database is back succeeds without waiting for the refresher. One look at a time keeps an outage
from costing more than one connection attempt, whatever the writes' rate.
"""

import threading
import time
from collections.abc import Callable

from sqlalchemy import Engine, text

from app.db.session import DatabaseUnavailableError, holding_for

PROBE_WAIT_SECONDS = 0.5
"""How long a write waits for a look at a database marked unreachable before its 503."""


class _Look:
    """One look at the database, in a thread of its own: it may take as long as the ping,
    connect and hold bounds allow (a frozen path), and no write waits that long for it."""

    def __init__(self, run: Callable[[], None]) -> None:
        self.done = threading.Event()
        self.answered = False
        self._run = run
        threading.Thread(target=self._look, name="database-look", daemon=True).start()

    def _look(self) -> None:
        try:
            self._run()
            self.answered = True
        except Exception:  # still unreachable: the refresher logs the outage
            self.answered = False
        finally:
            self.done.set()


class Reachability:
    """Marked by the catalogue refresher (`failed`, `answered`) and by writes' own looks;
    `require` is what a write asks before it takes a connection."""

    def __init__(
        self,
        engine: Engine,
        look_bound_seconds: float,
        probe_wait_seconds: float = PROBE_WAIT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._look_bound_seconds = look_bound_seconds
        self.probe_wait_seconds = probe_wait_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._look_now: _Look | None = None
        self.unreachable_since: float | None = None
        """When (clock()) the database first failed to answer in this outage; None while it
        answers; the refresher's log says when and why."""

    def answered(self) -> None:
        self.unreachable_since = None

    def failed(self) -> None:
        if self.unreachable_since is None:
            self.unreachable_since = self._clock()

    def require(self) -> None:
        """Before a write (blocking: call it off the event loop): return at once while the
        database answered its last look; otherwise look again, or join the look under way, and
        wait for it at most `probe_wait_seconds`; DatabaseUnavailableError if it has not
        answered by then."""
        since = self.unreachable_since
        if since is None:
            return
        with self._lock:
            look = self._look_now
            if look is None or look.done.is_set():
                look = self._look_now = _Look(self._look)
        if look.done.wait(self.probe_wait_seconds) and look.answered:
            return
        raise DatabaseUnavailableError(
            f"The database has not answered this server for {self._clock() - since:.1f} s, "
            "so writes are refused at once until it does. Retry after the time in Retry-After."
        )

    def _look(self) -> None:
        with holding_for(self._look_bound_seconds), self._engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        self.answered()
