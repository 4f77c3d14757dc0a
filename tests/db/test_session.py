"""Database work never runs on the event loop: a write waiting for SQLite's lock leaves every
other request of the process answering."""

import sqlite3
import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from app.core.settings import Settings
from app.main import create_app


def test_reads_answer_while_a_write_waits_for_the_sqlite_lock(
    store: Any, fresh_database_url: str
) -> None:
    if store.kind != "sqlite":
        pytest.skip("SQLite's file lock")
    settings = Settings(database_url=fresh_database_url, sqlite_busy_timeout_seconds=30)
    with TestClient(create_app(settings)) as client:
        holder = sqlite3.connect(str(make_url(fresh_database_url).database))
        holder.execute("BEGIN IMMEDIATE")  # take the write lock, as seed or an import does
        released = threading.Event()
        write: list[Any] = []
        writer = threading.Thread(target=lambda: write.append(client.post("/v1/routines", json={})))
        writer.start()
        writer.join(timeout=0.5)
        assert writer.is_alive(), "the write should be waiting for the lock"

        def release_lock() -> None:
            released.set()
            holder.rollback()

        release = threading.Timer(20, release_lock)
        release.start()  # only if the read below is stuck behind the write
        read = client.get("/v1/exercises")
        answered_before_release = not released.is_set()
        release.cancel()
        assert read.status_code == 200
        assert answered_before_release
        assert writer.is_alive()

        holder.rollback()
        holder.close()
        writer.join(timeout=30)
        assert write[0].status_code == 201
