"""Readiness: /readyz and the data endpoints agree on when this process can serve."""

import time
from pathlib import Path

from fastapi.testclient import TestClient

from app.cli import seed_database
from app.core.settings import Settings
from app.db.catalogue_store import CatalogueStore
from app.db.migrations import upgrade
from app.main import create_app

SEED_DIR = Path(__file__).resolve().parents[2] / "seed"
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
