"""PDF handouts are costly (a core for a second or more each): renders are bounded per process
(so many at once, a short queue, 503 with Retry-After past it) and budgeted per client (429 past
RATE_LIMIT_RENDERS; a PDF already rendered costs nothing)."""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from typing import Any

import httpx
from fastapi.testclient import TestClient

from app.core.settings import Settings
from app.main import create_app

ServerRunner = Callable[..., AbstractContextManager[str]]
PROBLEM = "application/problem+json"
WAIT = 120.0
"""How long a request may take on a busy machine: a bound on a hang, not a timing assertion."""


def new_routine(client: httpx.Client | TestClient, seed: int) -> str:
    response = client.post("/v1/routines", json={"minutes": 30, "seed": seed})
    assert response.status_code == 201, response.text
    routine_id: str = response.json()["id"]
    return routine_id


def pdf_of(base: str, routine_id: str) -> httpx.Response:
    url = f"{base}/v1/routines/{routine_id}/handout"
    return httpx.get(url, params={"format": "pdf"}, timeout=WAIT)


def test_renders_past_the_bound_are_503_at_once(
    server_runner: ServerRunner, fresh_database_url: str
) -> None:
    """One renderer and one place in the queue: of six PDFs asked at once, two are rendered and
    the others refused with 503 and Retry-After (over real sockets, to a real server)."""
    bounds = {
        "HANDOUT_RENDER_CONCURRENCY": "1",
        "HANDOUT_RENDER_QUEUE": "1",
        "RATE_LIMIT_RENDERS": "1000/minute",
        "RATE_LIMIT_ROUTINES": "1000/minute",
    }
    with server_runner(fresh_database_url, **bounds) as base, httpx.Client(base_url=base) as client:
        routine_ids = [new_routine(client, seed) for seed in range(6)]
        with ThreadPoolExecutor(len(routine_ids)) as pool:
            answers = list(pool.map(lambda routine_id: pdf_of(base, routine_id), routine_ids))
        statuses = sorted(answer.status_code for answer in answers)
        assert statuses.count(200) >= 2, statuses
        assert statuses.count(503) >= 1, statuses
        assert set(statuses) == {200, 503}, statuses
        for refused in (answer for answer in answers if answer.status_code == 503):
            assert refused.headers["content-type"] == PROBLEM
            assert int(refused.headers["retry-after"]) >= 1
            assert "rendering PDF handouts" in refused.json()["detail"]
        later = [pdf_of(base, routine_id) for routine_id in routine_ids]
        assert [answer.status_code for answer in later] == [200] * len(routine_ids)
        assert all(answer.content.startswith(b"%PDF") for answer in later)


def test_each_client_has_a_render_budget_and_cached_pdfs_are_free(
    fresh_database_url: str,
) -> None:
    settings = Settings(database_url=fresh_database_url, rate_limit_renders="2/day")
    with TestClient(create_app(settings), client=("192.0.2.40", 1)) as client:
        first, second, third = (new_routine(client, seed) for seed in range(3))

        def pdf(routine_id: str) -> Any:
            return client.get(f"/v1/routines/{routine_id}/handout", params={"format": "pdf"})

        assert pdf(first).status_code == 200
        assert pdf(second).status_code == 200
        refused = pdf(third)
        assert refused.status_code == 429, refused.text
        assert refused.headers["content-type"] == PROBLEM
        assert int(refused.headers["retry-after"]) >= 1
        assert "PDF handouts" in refused.json()["detail"]
        assert pdf(first).status_code == 200, "a rendered PDF costs nothing"
        html = client.get(f"/v1/routines/{third}/handout", params={"format": "html"})
        assert html.status_code == 200, "the HTML page is not a PDF render"
    with TestClient(create_app(settings), client=("192.0.2.41", 1)) as other:
        assert other.get(f"/v1/routines/{third}/handout?format=pdf").status_code == 200
