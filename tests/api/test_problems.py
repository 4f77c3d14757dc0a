"""Every problem `type` resolves: `/problems/{slug}` is a short page (HTML, or JSON on request)
for each problem type, made from the one list of them; the types real errors carry included."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

import app.main  # noqa: F401  (every module that declares a problem type is imported)
from app.core.errors import problem_types

SLUGS = sorted(problem_types())
NO_ROUTINE = "/v1/routines/00000000-0000-4000-8000-000000000000"


@pytest.mark.parametrize("slug", SLUGS)
def test_every_problem_type_has_its_page(client: TestClient, slug: str) -> None:
    kind = problem_types()[slug]
    page = client.get(f"/problems/{slug}")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert f"<h1>{kind.title}</h1>" in page.text
    assert str(kind.status) in page.text
    data = client.get(f"/problems/{slug}", headers={"Accept": "application/json"})
    assert data.json() == {
        "type": f"/problems/{slug}",
        "title": kind.title,
        "status": kind.status,
        "description": kind.description,
    }


def test_each_type_is_described_in_its_own_words() -> None:
    descriptions = [kind.description for kind in problem_types().values()]
    assert all(description.strip() for description in descriptions)
    assert len(set(descriptions)) == len(descriptions)


def real_problems(client: TestClient) -> list[Any]:
    """Errors of many kinds, as an integrator meets them."""
    json = {"Content-Type": "application/json"}
    routine = client.post("/v1/routines", json={}).json()
    feedback = {"pain_before": 2, "pain_after": 2, "completed": True, "difficulty": "right"}
    owner = {"Authorization": f"Bearer {routine['delete_token']}"}
    client.post(f"/v1/routines/{routine['id']}/feedback", json=feedback, headers=owner)
    return [
        client.get("/v1/exercises/no-such-exercise"),
        client.get("/v1/exercises", params={"saftey_for": "x"}),
        client.get("/v1/exercises", params={"cursor": "forged"}),
        client.get("/v1/exercises", params={"safe_for": "nothing"}),
        client.get("/v1/exercises", headers={"Accept": "text/html"}),
        client.delete("/v1/target-areas"),
        client.post("/v1/routines", content=b"{", headers=json),
        client.post("/v1/routines", content=b"{}", headers={"Content-Type": "text/plain"}),
        client.post("/v1/routines", content=b"x" * 2_000_000, headers=json),
        client.post(f"/v1/routines/{routine['id']}/feedback", json=feedback, headers=owner),
        client.post(f"/v1/routines/{routine['id']}/feedback", json=feedback),
        client.get("/v1/admin/exercises"),
        client.delete(NO_ROUTINE),
        client.get("/nowhere"),
    ]


def test_the_types_real_errors_carry_resolve(client: TestClient) -> None:
    seen = set()
    for response in real_problems(client):
        assert response.status_code >= 400
        problem = response.json()
        page = client.get(problem["type"], headers={"Accept": "application/json"})
        assert page.status_code == 200, problem["type"]
        assert page.json()["status"] == problem["status"] == response.status_code
        assert page.json()["title"] == problem["title"]
        seen.add(problem["type"])
    assert len(seen) >= 10


def test_the_index_lists_every_type(client: TestClient) -> None:
    page = client.get("/problems")
    assert page.status_code == 200
    for slug in SLUGS:
        assert f'href="/problems/{slug}"' in page.text
    listed = client.get("/problems", headers={"Accept": "application/json"}).json()
    assert sorted(entry["type"] for entry in listed) == [f"/problems/{slug}" for slug in SLUGS]


def test_an_unknown_type_is_404(client: TestClient) -> None:
    response = client.get("/problems/no-such-problem")
    assert response.status_code == 404
    assert response.json()["type"] == "/problems/not-found"


def test_a_page_in_a_format_not_offered_is_406(client: TestClient) -> None:
    response = client.get("/problems/not-found", headers={"Accept": "application/xml"})
    assert response.status_code == 406
    assert response.headers["content-type"] == "application/problem+json"


def test_the_pages_are_not_operations_of_the_contract(client: TestClient) -> None:
    assert not [path for path in client.get("/openapi.json").json()["paths"] if "problems" in path]
