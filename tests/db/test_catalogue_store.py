"""The snapshot meets a document written by a newer version of the code: it keeps serving what it
had, says so in the log and in /readyz, and goes on refreshing (tests/test_main.py shows the
refresher outliving any exception). A load of any size runs in short units of work."""

import logging
import time
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, col

from app.db import catalogue_store
from app.db.catalogue_queries import bump_revision, changed_exercises
from app.db.catalogue_store import CatalogueStore
from app.db.migrations import SchemaGate, head_revision
from app.db.models import ExerciseRow
from app.db.reachability import Reachability
from app.db.session import DatabaseLimits, build_engine

SLUG = "heel-raises"


def store_document(url: str, slug: str, document: dict[str, Any], version: int) -> None:
    """Write a row the way another process (of any code version) would."""
    engine = build_engine(url)
    with Session(engine) as session, session.begin():
        statement = (
            sa.update(ExerciseRow)
            .where(col(ExerciseRow.slug) == slug)
            .values(document=document, version=version, revision=bump_revision(session))
        )
        session.execute(statement)
    engine.dispose()


def test_a_newer_document_is_kept_out_and_reported(
    fresh_client: TestClient, fresh_database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = fresh_client.app.state.runtime.catalogue_store  # type: ignore[attr-defined]
    served = fresh_client.get(f"/v1/exercises/{SLUG}").json()
    newer = {**_stored_document(fresh_database_url), "breath_cues": ["exhale as you rise"]}
    with caplog.at_level(logging.WARNING, logger="app.catalogue"):
        store_document(fresh_database_url, SLUG, newer, version=served["version"] + 1)
        store.refresh()  # the app's own refresher may have been first: either way, once
    assert fresh_client.get(f"/v1/exercises/{SLUG}").json() == served
    ready = fresh_client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["unreadable_exercises"] == [SLUG]
    [line] = [r.getMessage() for r in caplog.records if r.name == "app.catalogue"]
    assert SLUG in line
    assert "newer" in line
    assert f"keeping version {served['version']}" in line

    readable = {**newer, "name": "Heel raises, upgraded"}
    readable.pop("breath_cues")
    store_document(fresh_database_url, SLUG, readable, version=served["version"] + 2)
    store.refresh()
    assert fresh_client.get(f"/v1/exercises/{SLUG}").json()["name"] == "Heel raises, upgraded"
    assert fresh_client.get("/readyz").json()["unreadable_exercises"] == []


def _stored_document(url: str) -> dict[str, Any]:
    engine = build_engine(url)
    with Session(engine) as session:
        statement = sa.select(col(ExerciseRow.document)).where(col(ExerciseRow.slug) == SLUG)
        document: dict[str, Any] = session.execute(statement).scalar_one()
    engine.dispose()
    return document


def test_a_long_first_load_runs_in_short_units_of_work_the_watchdog_leaves_alone(
    fresh_database_url: str, seed_exercise_count: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches of 5 rows, each slowed down, so the whole load lasts longer than the hold timeout
    that cuts any one unit of work (the watchdog guards PostgreSQL connections)."""
    hold_seconds = 1.0
    engine = build_engine(fresh_database_url, DatabaseLimits(hold_seconds=hold_seconds))
    batches: list[int] = []

    def slow_batch(session: Session, since: int, after: str, limit: int) -> Any:
        rows = changed_exercises(session, since, after, limit)
        batches.append(len(rows))
        time.sleep(0.25)
        return rows

    monkeypatch.setattr(catalogue_store, "LOAD_BATCH", 5)
    monkeypatch.setattr(catalogue_store, "changed_exercises", slow_batch)
    gate = SchemaGate(engine, head_revision(fresh_database_url))
    store = CatalogueStore(engine, gate, Reachability(engine, hold_seconds))
    started = time.monotonic()
    try:
        assert store.refresh()
    finally:
        engine.dispose()
    assert time.monotonic() - started > hold_seconds
    assert len(store.catalogue) == seed_exercise_count
    assert sum(batches) == seed_exercise_count
    assert max(batches) == 5
    assert len(batches) == seed_exercise_count // 5 + 1
