"""CORS: the public policy (reads, routines, feedback, deleting a routine) lets any origin in by
default; the administration policy (exercise writes, /v1/admin, the admin UI) lets none in unless
configured. Both through the real app, preflight included."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.core.settings import Settings
from app.main import create_app

ORIGIN = "https://app.example.org"
ADMIN_ORIGIN = "https://admin.example.org"
REQUEST_HEADERS = "content-type, idempotency-key, authorization, if-match, if-none-match"
EXPOSED = {"etag", "link", "location", "retry-after", "idempotent-replayed"}
PUBLIC_CALLS = [
    ("GET", "/v1/exercises"),
    ("GET", "/v1/exercises/cat-stretch"),
    ("POST", "/v1/routines"),
    ("POST", "/v1/routines/0b7c0d1e-0000-4000-8000-000000000000/feedback"),
    ("DELETE", "/v1/routines/0b7c0d1e-0000-4000-8000-000000000000"),
    ("GET", "/v1/routines/0b7c0d1e-0000-4000-8000-000000000000/handout"),
    ("GET", "/fhir/r4/metadata"),
]
ADMIN_CALLS = [
    ("POST", "/v1/exercises"),
    ("PUT", "/v1/exercises/cat-stretch"),
    ("PATCH", "/v1/exercises/cat-stretch"),
    ("DELETE", "/v1/exercises/cat-stretch"),
    ("GET", "/v1/admin/exercises"),
    ("POST", "/v1/admin/import"),
    ("POST", "/v1/admin/routines/purge"),
    ("GET", "/admin/exercises"),
]


def preflight(client: TestClient, method: str, path: str, origin: str = ORIGIN) -> dict[str, str]:
    response = client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": REQUEST_HEADERS,
        },
    )
    assert response.status_code == 204
    assert "Origin" in response.headers["vary"]
    return dict(response.headers)


def allowed_headers(headers: dict[str, str]) -> set[str]:
    return {name.strip().lower() for name in headers["access-control-allow-headers"].split(",")}


@pytest.fixture(scope="module")
def configured(database_url: str) -> Iterator[TestClient]:
    settings = Settings(
        database_url=database_url,
        cors_public_origins=[ORIGIN],
        cors_admin_origins=[ADMIN_ORIGIN],
    )
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.mark.parametrize(("method", "path"), PUBLIC_CALLS)
def test_any_origin_may_make_public_calls_by_default(
    client: TestClient, method: str, path: str
) -> None:
    headers = preflight(client, method, path)
    assert headers["access-control-allow-origin"] == "*"
    assert method in headers["access-control-allow-methods"]
    assert allowed_headers(headers) >= set(REQUEST_HEADERS.split(", "))


@pytest.mark.parametrize(("method", "path"), ADMIN_CALLS)
def test_no_origin_may_administer_by_default(client: TestClient, method: str, path: str) -> None:
    headers = preflight(client, method, path)
    assert "access-control-allow-origin" not in headers
    assert "access-control-allow-methods" not in headers


def test_a_public_answer_exposes_the_headers_an_app_reads(client: TestClient) -> None:
    response = client.post("/v1/routines", json={}, headers={"Origin": ORIGIN})
    assert response.status_code == 201
    assert response.headers["access-control-allow-origin"] == "*"
    exposed = {
        name.strip().lower()
        for name in response.headers["access-control-expose-headers"].split(",")
    }
    assert exposed >= EXPOSED
    assert "Origin" in response.headers["vary"]


def test_an_admin_answer_carries_no_cors_header_by_default(client: TestClient) -> None:
    response = client.get("/v1/admin/exercises", headers={"Origin": ORIGIN})
    assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize(("method", "path"), ADMIN_CALLS)
def test_a_configured_admin_origin_may_administer(
    configured: TestClient, method: str, path: str
) -> None:
    headers = preflight(configured, method, path, ADMIN_ORIGIN)
    assert headers["access-control-allow-origin"] == ADMIN_ORIGIN
    assert allowed_headers(headers) >= set(REQUEST_HEADERS.split(", "))
    assert "access-control-allow-origin" not in preflight(configured, method, path, ORIGIN)


@pytest.mark.parametrize(("method", "path"), PUBLIC_CALLS)
def test_configured_public_origins_replace_any(
    configured: TestClient, method: str, path: str
) -> None:
    assert preflight(configured, method, path)["access-control-allow-origin"] == ORIGIN
    assert "access-control-allow-origin" not in preflight(
        configured, method, path, "https://other.example"
    )


def test_the_old_setting_names_still_work(database_url: str) -> None:
    settings = Settings(
        database_url=database_url, cors_read_origins=[ORIGIN], cors_write_origins=[ADMIN_ORIGIN]
    )
    assert settings.cors_public_origins == [ORIGIN]
    assert settings.cors_admin_origins == [ADMIN_ORIGIN]
