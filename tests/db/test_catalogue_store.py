"""The snapshot meets a document written by a newer version of the code: it keeps serving what it
had, says so in the log and in /readyz, and goes on refreshing (tests/test_main.py shows the
refresher outliving any exception)."""

import logging
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, col

from app.db.catalogue_queries import bump_revision
from app.db.models import ExerciseRow
from app.db.session import build_engine

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
