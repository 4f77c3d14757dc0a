"""What every route takes from the query besides its own parameters: the web's campaign tags
(`utm_*`) and a `_` cache-buster are ignored everywhere; the probes ignore everything; anything
else unknown stays a 400."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

WEB_ADDITIONS: list[dict[str, Any]] = [
    {"utm_source": "newsletter", "utm_medium": "email", "utm_campaign": "spring"},
    {"_": "1700000000000"},
    {"utm_content": "x", "_": "1"},
]
STILL_UNKNOWN = ["utm", "__", "_x", "UTM_source", "utmsource"]


@pytest.fixture(scope="module")
def routine_id(client: TestClient) -> str:
    response = client.post("/v1/routines", json={})
    assert response.status_code == 201
    return str(response.json()["id"])


def paths(routine_id: str) -> list[tuple[str, dict[str, Any]]]:
    """Each route with the parameters it takes, and a value for each."""
    return [
        ("/v1/exercises", {"limit": "5", "safe_for": "flexion_sensitive"}),
        ("/v1/exercises/cat-stretch", {}),
        (f"/v1/routines/{routine_id}", {}),
        ("/fhir/r4/ActivityDefinition", {"_count": "3"}),
        ("/fhir/r4/ActivityDefinition/cat-stretch", {}),
    ]


@pytest.mark.parametrize("added", WEB_ADDITIONS)
def test_what_the_web_adds_to_links_is_ignored(
    client: TestClient, routine_id: str, added: dict[str, Any]
) -> None:
    for path, params in paths(routine_id):
        plain = client.get(path, params=params)
        tagged = client.get(path, params={**params, **added})
        assert plain.status_code == tagged.status_code == 200, (path, tagged.text)
        assert content(tagged.json()) == content(plain.json()), path


def content(body: dict[str, Any]) -> Any:
    """What a response says, less a searchset's links (which echo the request's URL)."""
    return body["entry"] if body.get("resourceType") == "Bundle" else body


@pytest.mark.parametrize("name", STILL_UNKNOWN)
def test_other_unknown_parameters_are_still_refused(
    client: TestClient, routine_id: str, name: str
) -> None:
    for path, params in paths(routine_id):
        response = client.get(path, params={**params, name: "1"})
        assert response.status_code == 400, (path, name)
        assert name in response.text


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_ignore_every_parameter(client: TestClient, path: str) -> None:
    response = client.get(f"{path}?verbose=1&saftey_for=x&utm_source=lb&_=1&%00=%00")
    assert response.status_code == 200, response.text
