"""Every request and every parsed document is bounded: YAML without anchors or deep nesting, error
lists of a bounded length, strictly typed bodies, no NUL characters, a bounded number of query
parameters, and a 405 that names every method of its path."""

import asyncio
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.api.routing import MAX_QUERY_PARAMETERS
from app.content.bundle import MAX_IMPORT_ENTRIES, MAX_YAML_DEPTH
from app.core.errors import MAX_LISTED_ERRORS
from app.core.security import Role
from app.db.key_queries import create_key
from app.db.session import build_engine
from app.domain.exercise import MAX_ITEMS, MAX_TEXT_CHARACTERS

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

    @pytest.mark.parametrize("depth", [470, 5_000])
    def test_deeply_nested_json_imports_are_4xx(
        self, fresh_client: TestClient, admin: dict[str, str], depth: int
    ) -> None:
        document = '{"sources": [], "exercises": [' + "[" * depth + "]" * depth + "]}"
        response = fresh_client.post(
            "/v1/admin/import",
            content=document.encode(),
            headers={"Content-Type": "application/json", **admin},
        )
        assert response.status_code in (400, 422)
        assert response.headers["content-type"] == PROBLEM

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


class TestStrictBodies:
    @pytest.mark.parametrize(
        "profile",
        [
            {"seed": False},
            {"seed": "3"},
            {"minutes": "20"},
            {"minutes": True},
            {"can_get_on_floor": "yes"},
            {"can_get_on_floor": 1},
            {"include_aerobic": "true"},
        ],
    )
    def test_wrongly_typed_profiles_are_422(
        self, client: TestClient, profile: dict[str, Any]
    ) -> None:
        body = problem(client.post("/v1/routines", json=profile), 422)
        assert body["errors"][0]["field"] == next(iter(profile))

    def test_wrongly_typed_feedback_is_422(self, client: TestClient) -> None:
        routine = client.post("/v1/routines", json={}).json()
        feedback = {"pain_before": "4", "pain_after": 3, "completed": "yes", "difficulty": "easy"}
        body = problem(client.post(f"/v1/routines/{routine['id']}/feedback", json=feedback), 422)
        assert {error["field"] for error in body["errors"]} == {"pain_before", "completed"}

    def test_well_typed_bodies_are_still_accepted(self, client: TestClient) -> None:
        profile = {"seed": 3, "minutes": 25.0, "can_get_on_floor": False, "level": "beginner"}
        assert client.post("/v1/routines", json=profile).status_code == 201


class TestNul:
    @pytest.mark.parametrize(
        "path",
        [
            "/v1/routines/%00",
            "/v1/exercises/cat%00stretch",
            "/v1/exercises?q=a%00b",
            "/v1/exercises?%00=1",
        ],
    )
    def test_nul_in_a_path_or_query_is_400(self, client: TestClient, path: str) -> None:
        assert "NUL" in problem(client.get(path), 400)["detail"]

    def test_nul_in_admin_search_is_400(
        self, fresh_client: TestClient, admin: dict[str, str]
    ) -> None:
        problem(fresh_client.get("/v1/admin/exercises?q=a%00", headers=admin), 400)

    def test_nul_in_a_json_body_is_400(self, client: TestClient) -> None:
        routine = client.post("/v1/routines", json={}).json()
        feedback = {"pain_before": 4, "pain_after": 3, "completed": True, "difficulty": "e\x00"}
        response = client.post(f"/v1/routines/{routine['id']}/feedback", json=feedback)
        assert problem(response, 400)["errors"][0]["location"] == "body"

    def test_an_escaped_backslash_before_u0000_is_not_nul(self, client: TestClient) -> None:
        body = problem(client.post("/v1/routines", json={"level": "\\u0000"}), 422)
        assert body["errors"][0]["field"] == "level"

    def test_nul_in_new_exercise_text_is_refused_and_nothing_is_written(
        self, fresh_client: TestClient, admin: dict[str, str]
    ) -> None:
        document = fresh_client.get("/v1/admin/exercises/cat-stretch", headers=admin).json()
        for field in ("version",):
            document.pop(field, None)
        document.update(slug="nul-stretch", name="Nul\x00stretch", status="draft")
        response = fresh_client.post("/v1/exercises", json=document, headers=admin)
        problem(response, 400)
        assert fresh_client.get("/v1/admin/exercises/nul-stretch", headers=admin).status_code == 404

    @pytest.mark.parametrize("dry_run", ["true", "false"])
    def test_yaml_nul_escapes_are_refused_by_dry_run_and_import_alike(
        self, fresh_client: TestClient, admin: dict[str, str], dry_run: str
    ) -> None:
        document = (
            'sources:\n- {id: nul-source, title: "Nul\\0title", publisher_kind: clinic_blog, '
            "seed_file: x.txt}\nexercises: []\n"
        )
        response = fresh_client.post(
            f"/v1/admin/import?dry_run={dry_run}",
            content=document.encode(),
            headers={**YAML, **admin},
        )
        body = problem(response, 422)
        assert "NUL" in body["errors"][0]["message"]


def test_a_filter_repeated_past_the_bound_is_400(client: TestClient) -> None:
    query = "&".join(["target_area=abdominals"] * 1500)
    body = problem(client.get(f"/v1/exercises?{query}"), 400)
    assert str(MAX_QUERY_PARAMETERS) in body["detail"]
    two = client.get("/v1/exercises?target_area=abdominals&target_area=hamstrings")
    assert two.status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/v1/exercises", {"GET", "POST"}),
        ("PUT", "/v1/routines", {"POST"}),
        ("DELETE", "/v1/red-flags", {"GET"}),
    ],
)
def test_a_405_lists_every_method_of_the_path(
    client: TestClient, method: str, path: str, allowed: set[str]
) -> None:
    response = client.request(method, path)
    problem(response, 405)
    assert set(response.headers["allow"].split(", ")) >= allowed


def one_too_many(document: dict[str, Any], field: str) -> dict[str, Any]:
    """`document` with `field` (a dotted path) holding one item more than it may: copies of an
    item it holds, or of a valid one."""
    stand_ins: dict[str, Any] = {
        "aliases": "Another name",
        "equipment": "mat",
        "optional_equipment": "mat",
        "indications": "Another indication.",
        "cautions": "Another caution.",
        "variants": "cat-stretch",
        "progressions.easier": "cat-stretch",
        "progressions.harder": "cat-stretch",
        "media": {
            "id": "9f86d081884c",
            "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "content_type": "image/png",
            "width": 10,
            "height": 10,
            "byte_size": 100,
            "license": "CC0-1.0",
            "author": "Someone",
            "source_url": "https://example.org/a.png",
            "alt": "A picture.",
        },
    }
    *parents, name = field.split(".")
    holder = document
    for parent in parents:
        holder = holder[parent]
    item = holder[name][0] if holder[name] else stand_ins[field]
    return {**holder, name: [item] * (MAX_ITEMS[field] + 1)}


@pytest.fixture(scope="module")
def editor_key(database_url: str, issue_key: Any) -> dict[str, str]:
    headers: dict[str, str] = issue_key(database_url, "list-caps-editor", Role.admin)
    return headers


class TestExerciseSize:
    @pytest.mark.parametrize("field", sorted(MAX_ITEMS))
    def test_every_list_field_is_capped(
        self, client: TestClient, editor_key: dict[str, str], field: str
    ) -> None:
        current = client.get("/v1/admin/exercises/cat-stretch", headers=editor_key)
        document = current.json()
        changed = one_too_many(document, field)
        document = {**document, field.split(".")[0]: changed} if "." in field else changed
        headers = {**editor_key, "If-Match": current.headers["etag"]}
        response = client.put("/v1/exercises/cat-stretch", json=document, headers=headers)
        body = problem(response, 422)
        assert field in {error["field"] for error in body["errors"]}, body
        after = client.get("/v1/admin/exercises/cat-stretch", headers=editor_key)
        assert after.headers["etag"] == current.headers["etag"], "nothing was written"

    def test_an_exercise_holds_a_bounded_amount_of_text(
        self, client: TestClient, editor_key: dict[str, str]
    ) -> None:
        current = client.get("/v1/admin/exercises/cat-stretch", headers=editor_key)
        long_text = "Breathe out slowly as you move. " * 60  # under 2,000 characters each
        document = {
            **current.json(),
            "steps": [long_text] * MAX_ITEMS["steps"],
            "cautions": [long_text] * 4,
        }
        assert len(long_text) * (MAX_ITEMS["steps"] + 4) > MAX_TEXT_CHARACTERS
        headers = {**editor_key, "If-Match": current.headers["etag"]}
        response = client.put("/v1/exercises/cat-stretch", json=document, headers=headers)
        body = problem(response, 422)
        assert f"{MAX_TEXT_CHARACTERS:,}" in body["errors"][0]["message"], body


def test_an_empty_import_is_refused(fresh_client: TestClient, admin: dict[str, str]) -> None:
    for content, headers in ((b"{}", {"Content-Type": "application/json"}), (b"{}", YAML)):
        response = fresh_client.post(
            "/v1/admin/import", content=content, headers={**headers, **admin}
        )
        body = problem(response, 422)
        assert [error["pointer"] for error in body["errors"]] == ["#"]
        assert "neither sources nor exercises" in body["errors"][0]["message"]


def test_imports_are_parsed_off_the_event_loop(
    fresh_client: TestClient, admin: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """1 KB of `[` kept every request waiting for two seconds while it was parsed on the event
    loop: parsing now runs in a worker thread, where no event loop runs."""
    from app.api import admin as admin_routes

    loops_seen: list[bool] = []

    def parse(raw: bytes, content_type: str | None) -> Any:
        try:
            asyncio.get_running_loop()
            loops_seen.append(True)
        except RuntimeError:
            loops_seen.append(False)
        return parsed(raw, content_type)

    parsed = admin_routes.bundle_document
    monkeypatch.setattr(admin_routes, "bundle_document", parse)
    response = fresh_client.post("/v1/admin/import", content=b"[" * 1024, headers={**YAML, **admin})
    problem(response, 400)
    assert loops_seen == [False]
