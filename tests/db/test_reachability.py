"""Writes while the database is known not to answer: one shared look, a bounded wait, and the
first write after it answers again goes through."""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

import pytest
from sqlalchemy import Engine

from app.db.reachability import Reachability
from app.db.session import DatabaseUnavailableError

WAIT = 0.2


class Database:
    """Stands in for an engine: answers, refuses, or hangs until released."""

    def __init__(self) -> None:
        self.mode = "answer"
        self.looks = 0
        self.release = threading.Event()

    @contextmanager
    def connect(self) -> Iterator[Any]:
        self.looks += 1
        if self.mode == "refuse":
            raise ConnectionRefusedError("refused")
        if self.mode == "hang":
            self.release.wait(10)
        yield self

    def execute(self, _statement: Any) -> None:
        return None


def reachability(database: Database) -> Reachability:
    return Reachability(cast(Engine, database), look_bound_seconds=1, probe_wait_seconds=WAIT)


def test_while_the_database_answers_a_write_never_looks() -> None:
    database = Database()
    reachability(database).require()
    assert database.looks == 0


def test_a_refusing_database_fails_writes_at_once_and_the_first_after_it_is_back_passes() -> None:
    database = Database()
    known = reachability(database)
    known.failed()
    database.mode = "refuse"
    started = time.monotonic()
    with pytest.raises(DatabaseUnavailableError, match="not answered this server"):
        known.require()
    assert time.monotonic() - started < WAIT
    database.mode = "answer"
    known.require()
    assert known.unreachable_since is None
    looks = database.looks
    known.require()
    assert database.looks == looks, "once it answered, writes stop looking"


def test_writes_during_a_hanging_look_share_it_and_wait_no_longer_than_the_bound() -> None:
    database = Database()
    known = reachability(database)
    known.failed()
    database.mode = "hang"
    refused: list[float] = []

    def write() -> None:
        started = time.monotonic()
        with pytest.raises(DatabaseUnavailableError):
            known.require()
        refused.append(time.monotonic() - started)

    writers = [threading.Thread(target=write) for _ in range(8)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    assert len(refused) == 8
    assert max(refused) < WAIT + 0.5
    assert database.looks == 1, "one look at a time, however many writes"
    database.mode = "answer"
    database.release.set()
    known.require()
    assert known.unreachable_since is None
