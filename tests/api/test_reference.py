"""Reference endpoints: vocabularies with counts, levels, flags, sources, health."""

from enum import StrEnum

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from app.core.settings import Settings
from app.db.migrations import downgrade
from app.domain.vocabulary import Category, Equipment, Flag, Level, Position, TargetArea
from app.main import create_app


@pytest.mark.parametrize(
    ("path", "vocabulary", "field"),
    [
        ("/v1/target-areas", TargetArea, "target_area"),
        ("/v1/categories", Category, "category"),
        ("/v1/equipment", Equipment, "equipment"),
        ("/v1/positions", Position, "position"),
    ],
)
def test_vocabulary_counts_match_the_list(
    client: TestClient, path: str, vocabulary: type[StrEnum], field: str
) -> None:
    items = client.get(path).json()["items"]
    assert [item["slug"] for item in items] == [term.value for term in vocabulary]
    for item in items:
        assert item["name"]
        listed = client.get("/v1/exercises", params={field: item["slug"], "limit": 100}).json()[
            "items"
        ]
        assert item["exercise_count"] == len(listed), item


def test_progression_levels(client: TestClient, seed_exercise_count: int) -> None:
    items = client.get("/v1/progression-levels").json()["items"]
    assert [item["slug"] for item in items] == [level.value for level in Level]
    assert [item["rank"] for item in items] == [0, 1, 2]
    assert all(item["description"] and item["when_to_move_up"] for item in items)
    assert sum(item["exercise_count"] for item in items) == seed_exercise_count


def test_contraindications_explain_each_flag(client: TestClient, seed_exercise_count: int) -> None:
    items = {item["slug"]: item for item in client.get("/v1/contraindications").json()["items"]}
    assert set(items) == {flag.value for flag in Flag}
    assert items["flexion_sensitive"]["excluded_motions"] == ["flexion"]
    assert items["flexion_sensitive"]["indicated_motion"] == "extension"
    assert items["extension_sensitive"]["excluded_motions"] == ["extension"]
    assert "clinical convention" in items["extension_sensitive"]["evidence"]
    for slug, item in items.items():
        safe = client.get("/v1/exercises", params={"safe_for": slug, "limit": 100}).json()["items"]
        assert item["exercise_count"] == seed_exercise_count - len(safe)


def test_sources_are_the_five_articles(client: TestClient) -> None:
    items = client.get("/v1/sources").json()["items"]
    assert len(items) == 5
    assert sorted(item["seed_file"][:3] for item in items) == ["000", "001", "002", "003", "004"]
    assert all(item["exercise_count"] > 0 for item in items)


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready"
    assert ready["catalogue_revision"] >= 1


def test_readiness_is_503_when_migrations_are_behind(fresh_database_url: str) -> None:
    downgrade(fresh_database_url, "base")
    with TestClient(create_app(Settings(database_url=fresh_database_url))) as client:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert "python -m app migrate" in response.json()["detail"]
        assert client.get("/healthz").status_code == 200


def test_readiness_is_503_when_the_database_goes_away(fresh_client: TestClient) -> None:
    runtime = fresh_client.app.state.runtime  # type: ignore[attr-defined]
    healthy_engine = runtime.engine
    runtime.engine = sa.create_engine("postgresql+psycopg://postgres@127.0.0.1:1/gone")
    try:
        response = fresh_client.get("/readyz")
    finally:
        runtime.engine.dispose()
        runtime.engine = healthy_engine
    assert response.status_code == 503
    assert response.json()["detail"] == "The database does not answer."
