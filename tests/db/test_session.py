"""Database work never runs on the event loop: a write waiting for SQLite's lock leaves every
other request of the process answering."""

import sqlite3
import threading

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from app.core.settings import Settings
from app.main import create_app
from tests.conftest import Store


def test_reads_answer_while_a_write_waits_for_the_sqlite_lock(
    store: Store, fresh_database_url: str
) -> None:
    if store.kind != "sqlite":
        pytest.skip("SQLite's file lock")
    settings = Settings(database_url=fresh_database_url, sqlite_busy_timeout_seconds=30)
    with TestClient(create_app(settings)) as client:
        holder = sqlite3.connect(str(make_url(fresh_database_url).database))
        holder.execute("BEGIN IMMEDIATE")  # take the write lock, as seed or an import does
        released = threading.Event()
        write: list[httpx.Response] = []
        writer = threading.Thread(
            target=lambda: write.append(client.post("/v1/routines", json={}))
        )
        writer.start()
        writer.join(timeout=0.5)
        assert writer.is_alive(), "the write should be waiting for the lock"

        release = threading.Timer(20, lambda: (released.set(), holder.rollback()))
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
