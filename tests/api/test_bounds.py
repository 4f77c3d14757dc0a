"""Every request and every parsed document is bounded: YAML without anchors or deep nesting, error
lists of a bounded length, strictly typed bodies, no NUL characters, a bounded number of query
parameters, and a 405 that names every method of its path."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.api.admin import MAX_IMPORT_ENTRIES
from app.content.bundle import MAX_YAML_DEPTH
from app.core.errors import MAX_LISTED_ERRORS
from app.core.security import Role
from app.db.key_queries import create_key
from app.db.session import build_engine

PROBLEM = "application/problem+json"
YAML = {"Content-Type": "application/yaml"}


def make_key(url: str, name: str, role: Role) -> str:
    engine = build_engine(url)
    with Session(engine) as session, session.begin():
        key = create_key(session, name, role)
    engine.dispose()
    return key


@pytest.fixture
def admin(fresh_database_url: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_key(fresh_database_url, 'admin', Role.admin)}"}


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


def billion_laughs() -> bytes:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in "bcdefghi":
        previous = chr(ord(level) - 1)
        lines.append(f"{level}: &{level} [{','.join(['*' + previous] * 9)}]")
    return ("\n".join(lines) + "\nexercises: *i\nsources: []\n").encode()


class TestYamlImports:
    def test_billion_laughs_is_refused_small(
        self, fresh_client: TestClient, admin: dict[str, str]
    ) -> None:
        response = fresh_client.post(
            "/v1/admin/import", content=billion_laughs(), headers={**YAML, **admin}
        )
        body = problem(response, 400)
        assert "anchors and aliases" in body["detail"]
        assert len(response.content) < 2000

    @pytest.mark.parametrize("depth", [MAX_YAML_DEPTH + 1, 470, 10_000])
    def test_deep_nesting_is_refused(
        self, fresh_client: TestClient, admin: dict[str, str], depth: int
    ) -> None:
        document = "exercises: " + "[" * depth + "]" * depth + "\nsources: []\n"
        response = fresh_client.post(
            "/v1/admin/import", content=document.encode(), headers={**YAML, **admin}
        )
        assert f"deeper than {MAX_YAML_DEPTH}" in problem(response, 400)["detail"]

    def test_ordinary_yaml_still_imports(
        self, fresh_client: TestClient, admin: dict[str, str]
    ) -> None:
        response = fresh_client.post(
            "/v1/admin/import?dry_run=true",
            content=b"sources: []\nexercises: []\n",
            headers={**YAML, **admin},
        )
        assert response.status_code == 200, response.text


class TestErrorLists:
    def test_an_import_of_many_empty_entries_lists_a_few_and_counts_all(
        self, fresh_client: TestClient, admin: dict[str, str]
    ) -> None:
        entries = MAX_IMPORT_ENTRIES
        response = fresh_client.post(
            "/v1/admin/import", json={"sources": [], "exercises": [{}] * entries}, headers=admin
        )
        body = problem(response, 422)
        assert len(body["errors"]) == MAX_LISTED_ERRORS
        assert body["error_count"] > entries
        assert str(body["error_count"]) in body["detail"]
        assert len(response.content) < 20_000

    def test_an_import_of_too_many_entries_is_refused_whole(
        self, fresh_client: TestClient, admin: dict[str, str]
    ) -> None:
        bundle: dict[str, list[Any]] = {"sources": [], "exercises": [{}] * (MAX_IMPORT_ENTRIES + 1)}
        body = problem(fresh_client.post("/v1/admin/import", json=bundle, headers=admin), 422)
        assert f"at most {MAX_IMPORT_ENTRIES}" in body["errors"][0]["message"]

    def test_a_body_of_many_unknown_keys_lists_a_few_and_counts_all(
        self, client: TestClient
    ) -> None:
        keys = 60_000
        response = client.post("/v1/routines", json={f"k{i}": 1 for i in range(keys)})
        body = problem(response, 422)
        assert len(body["errors"]) == MAX_LISTED_ERRORS
        assert body["error_count"] == keys
        assert body["detail"].startswith(f"{keys} parameters or fields are invalid")
        assert len(response.content) < 20_000

    def test_a_few_errors_are_all_listed_without_a_count(self, client: TestClient) -> None:
        body = problem(client.post("/v1/routines", json={"minutes": 0, "level": "x"}), 422)
        assert len(body["errors"]) == 2
        assert "error_count" not in body
