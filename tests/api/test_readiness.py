"""Readiness: /readyz and the data endpoints agree on when this process can serve."""

import time

import pytest
from fastapi.testclient import TestClient
from seeded import SEED_DIR
from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError

from app.api.health import READINESS_QUERY_SECONDS
from app.cli import seed_database
from app.core.settings import Settings
from app.db.catalogue_store import CatalogueStore
from app.db.migrations import upgrade
from app.main import create_app

DATA_READS = ["/v1/exercises", "/v1/exercises/cat-stretch", "/v1/target-areas", "/v1/sources"]
UNKNOWN_ROUTINE = "/v1/routines/5f0c6a4e-8a7b-4e0f-9a55-2f7f1e0c9d31"


def assert_unavailable(client: TestClient, method: str, path: str, **body: object) -> None:
    response = client.request(method, path, json=body or None)
    assert response.status_code == 503, (path, response.text)
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) > 0


def test_unmigrated_database_is_503_everywhere_until_migrated(empty_database_url: str) -> None:
    settings = Settings(database_url=empty_database_url, catalogue_refresh_seconds=0.05)
    with TestClient(create_app(settings)) as client:
        for path in [*DATA_READS, UNKNOWN_ROUTINE, "/readyz"]:
            assert_unavailable(client, "GET", path)
        assert_unavailable(client, "POST", "/v1/routines", sensitivity="flexion_sensitive")
        key_check = client.get("/v1/admin/exercises", headers={"Authorization": "Bearer bck_x"})
        assert key_check.status_code == 503, key_check.text
        assert "migrate" in client.get("/v1/exercises").json()["detail"]

        upgrade(empty_database_url)
        seed_database(empty_database_url, SEED_DIR)
        deadline = time.monotonic() + 10
        while client.get("/v1/exercises/cat-stretch").status_code != 200:
            assert time.monotonic() < deadline, "never served after migrating and seeding"
            time.sleep(0.05)
        assert client.get("/readyz").status_code == 200
        assert client.post("/v1/routines", json={}).status_code == 201


def test_stale_snapshot_makes_readyz_503_until_a_refresh_succeeds(
    fresh_database_url: str,
) -> None:
    settings = Settings(database_url=fresh_database_url, catalogue_max_age_seconds=1)
    with TestClient(create_app(settings)) as client:
        store: CatalogueStore = client.app.state.runtime.catalogue_store  # type: ignore[attr-defined]
        store.confirmed_at -= 60
        assert store.age() > 1
        response = client.get("/readyz")
        assert response.status_code == 503
        assert "snapshot" in response.json()["detail"]
        assert client.get("/v1/exercises").status_code == 200  # reads still served

        store.refresh()
        assert client.get("/readyz").status_code == 200


def test_readiness_answers_from_the_snapshot_age_before_asking_the_database(
    fresh_database_url: str,
) -> None:
    """A frozen database path made /readyz take 5-30 s to say 503: a stale snapshot is a 503
    without a query, and a query that does not answer within READINESS_QUERY_SECONDS is one."""
    settings = Settings(database_url=fresh_database_url, catalogue_refresh_seconds=1)
    with TestClient(create_app(settings)) as client:
        runtime = client.app.state.runtime  # type: ignore[attr-defined]
        asked: list[bool] = []

        def frozen() -> str:
            asked.append(True)
            time.sleep(READINESS_QUERY_SECONDS + 1)
            return "never"

        runtime.schema_revision = frozen
        runtime.catalogue_store.age = lambda: 3600.0  # the refresher cannot make it younger
        stale = client.get("/readyz")
        assert stale.status_code == 503
        assert "snapshot" in stale.json()["detail"]
        assert asked == [], "no query when the snapshot already says no"
        del runtime.catalogue_store.age
        slow = client.get("/readyz")
        assert slow.status_code == 503
        assert "did not answer within" in slow.json()["detail"]


def test_a_failed_write_makes_readiness_503_until_a_write_succeeds(
    fresh_database_url: str,
) -> None:
    """A full SQLite disk failed every write while /readyz said ready."""
    with TestClient(create_app(Settings(database_url=fresh_database_url))) as client:
        database = client.app.state.runtime.database  # type: ignore[attr-defined]

        def disk_full(connection: Connection) -> None:
            raise OperationalError("INSERT", {}, Exception("database or disk is full"))

        with pytest.raises(OperationalError):
            client.portal.call(database.transaction, disk_full)  # type: ignore[union-attr]
        answer = client.get("/readyz")
        assert answer.status_code == 503
        assert "disk is full" in answer.json()["detail"]
        assert client.post("/v1/routines", json={}).status_code == 201
        assert client.get("/readyz").status_code == 200, "a write succeeded since"
