"""What a request's body is sent as (415 unless JSON, or YAML for an import), what its `Accept`
asks for (406 when nothing the operation produces is admitted), and how a body that is not JSON
at all is reported (where parsing stopped, never a pointer into members that do not exist)."""

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.core.security import Role

PROBLEM = "application/problem+json"
BODY = b'{"minutes": 20}'
NOT_JSON = [
    "text/plain",
    "text/plain; charset=utf-8",
    "application/x-www-form-urlencoded",
    "application/xml",
    None,
]


@pytest.fixture(scope="module")
def routine_id(client: TestClient) -> str:
    response = client.post("/v1/routines", json={})
    assert response.status_code == 201
    return str(response.json()["id"])


@pytest.fixture(scope="module")
def editor(
    client: TestClient, database_url: str, issue_key: Callable[..., dict[str, str]]
) -> dict[str, str]:
    return issue_key(database_url, "media-types-admin", Role.admin)


def body_routes(routine_id: str) -> list[tuple[str, str]]:
    """Every operation that takes a JSON body."""
    return [
        ("POST", "/v1/routines"),
        ("POST", f"/v1/routines/{routine_id}/feedback"),
        ("POST", "/v1/exercises"),
        ("PUT", "/v1/exercises/cat-stretch"),
        ("PATCH", "/v1/exercises/cat-stretch"),
    ]


def assert_unsupported(response: Any, *accepted: str) -> dict[str, Any]:
    assert response.status_code == 415, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["type"] == "/problems/unsupported-media-type"
    assert [(error["location"], error["field"]) for error in body["errors"]] == [
        ("header", "content-type")
    ]
    for media_type in accepted:
        assert media_type in body["detail"]
    return body


@pytest.mark.parametrize("content_type", NOT_JSON)
def test_a_json_body_sent_as_anything_else_is_415(
    client: TestClient, routine_id: str, editor: dict[str, str], content_type: str | None
) -> None:
    headers = {**editor, "If-Match": '"1"'}
    if content_type is not None:
        headers["Content-Type"] = content_type
    for method, path in body_routes(routine_id):
        response = client.request(method, path, content=BODY, headers=headers)
        body = assert_unsupported(response, "application/json")
        assert (content_type or "no Content-Type") in body["detail"]


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8"])
def test_json_is_read_as_json(client: TestClient, content_type: str) -> None:
    response = client.post("/v1/routines", content=BODY, headers={"Content-Type": content_type})
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("content_type", ["text/plain", "text/csv", None])
def test_an_import_is_json_or_yaml(
    client: TestClient, editor: dict[str, str], content_type: str | None
) -> None:
    headers = dict(editor)
    if content_type is not None:
        headers["Content-Type"] = content_type
    response = client.post(
        "/v1/admin/import", params={"dry_run": "true"}, content=b"{}", headers=headers
    )
    assert_unsupported(response, "application/json", "application/yaml")


@pytest.mark.parametrize("content_type", ["application/json", "application/yaml", "text/yaml"])
def test_an_import_reads_json_and_yaml(
    client: TestClient, editor: dict[str, str], content_type: str
) -> None:
    response = client.post(
        "/v1/admin/import",
        params={"dry_run": "true"},
        content=b'{"sources": [], "exercises": []}',
        headers={**editor, "Content-Type": content_type},
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("content", "line", "column", "character"),
    [
        (b"{not json", 1, 2, 2),
        (b'{\n  "minutes": 20,\n  oops\n}', 3, 3, 22),
        (b'{"minutes": 20,}', 1, 16, 16),
    ],
)
def test_malformed_json_says_where_parsing_stopped(
    client: TestClient, content: bytes, line: int, column: int, character: int
) -> None:
    response = client.post(
        "/v1/routines", content=content, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "/problems/malformed-body"
    assert f"line {line}, column {column} (character {character})" in body["detail"]
    [error] = body["errors"]
    assert error["location"] == "body"
    assert error["field"] == "body"
    assert error["pointer"] == "#"


def test_a_malformed_import_points_at_the_whole_body(
    client: TestClient, editor: dict[str, str]
) -> None:
    for content_type, content in (("application/json", b"{nope"), ("application/yaml", b"a: [")):
        response = client.post(
            "/v1/admin/import",
            content=content,
            headers={**editor, "Content-Type": content_type},
        )
        assert response.status_code == 400
        body = response.json()
        assert body["type"] == "/problems/malformed-body"
        assert body["errors"][0]["pointer"] == "#"
        assert "line" in body["detail"]


ACCEPTABLE = [
    "*/*",
    "application/*",
    "application/json",
    "application/json; charset=utf-8",
    "application/problem+json",
    "application/json;q=0.1, text/html",
    "text/html, application/xhtml+xml, application/xml;q=0.9, */*;q=0.8",
]
UNACCEPTABLE = ["text/html", "application/xml", "image/png, text/*", "application/json;q=0"]


def json_reads(routine_id: str) -> list[str]:
    return [
        "/v1/exercises",
        "/v1/exercises/cat-stretch",
        "/v1/target-areas",
        f"/v1/routines/{routine_id}",
        f"/v1/routines/{routine_id}/feedback",
    ]


@pytest.mark.parametrize("accept", ACCEPTABLE)
def test_an_accept_that_admits_json_is_served(
    client: TestClient, routine_id: str, accept: str
) -> None:
    for path in json_reads(routine_id):
        response = client.get(path, headers={"Accept": accept})
        assert response.status_code != 406, (path, accept)
        assert response.headers["content-type"] in ("application/json", PROBLEM)


@pytest.mark.parametrize("accept", UNACCEPTABLE)
def test_an_accept_that_admits_nothing_is_406(
    client: TestClient, routine_id: str, editor: dict[str, str], accept: str
) -> None:
    for path in [*json_reads(routine_id), "/v1/admin/exercises"]:
        response = client.get(path, headers={**editor, "Accept": accept})
        assert response.status_code == 406, (path, accept)
        body = response.json()
        assert response.headers["content-type"] == PROBLEM
        assert body["type"] == "/problems/not-acceptable"
        assert [error["field"] for error in body["errors"]] == ["accept"]
        assert "application/json" in body["detail"]
    response = client.post("/v1/routines", json={}, headers={"Accept": accept})
    assert response.status_code == 406


@pytest.mark.parametrize(
    "accept",
    [
        "application/fhir+json",
        "application/json",
        "*/*",
        "application/fhir+json; fhirVersion=4.0",
        "application/fhir+json; fhirVersion=4.0.1",
        "application/fhir+json; charset=utf-8",
        "application/json; charset=utf-8",
    ],
)
def test_fhir_serves_fhir_json_and_json(client: TestClient, accept: str) -> None:
    """Parameters the server does not vary on are ignored (RFC 9110, FHIR R4 3.1.0.1.7)."""
    response = client.get("/fhir/r4/ActivityDefinition/cat-stretch", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/fhir+json; charset=utf-8"


@pytest.mark.parametrize(
    "accept",
    [
        "text/html",
        "application/fhir+xml",
        "application/json;q=0",
        "application/fhir+json; fhirVersion=3.0",
    ],
)
def test_fhir_refuses_what_it_cannot_serve(client: TestClient, accept: str) -> None:
    response = client.get("/fhir/r4/ActivityDefinition/cat-stretch", headers={"Accept": accept})
    assert response.status_code == 406
    assert response.json()["resourceType"] == "OperationOutcome"


def test_probes_answer_whatever_accept_says(client: TestClient) -> None:
    for path in ("/healthz", "/readyz"):
        assert client.get(path, headers={"Accept": "text/plain"}).status_code == 200


def test_the_contract_lists_406_and_415(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "406" in paths["/v1/exercises"]["get"]["responses"]
    assert "415" in paths["/v1/routines"]["post"]["responses"]
    assert "415" in paths["/v1/exercises/{slug}"]["patch"]["responses"]
    assert "415" not in paths["/v1/exercises"]["get"]["responses"]


@pytest.mark.parametrize("coding", ["br", "gzip", "deflate, br"])
def test_a_compressed_body_is_415_not_read_as_sent(
    client: TestClient, editor: dict[str, str], coding: str
) -> None:
    """Bodies are read as sent: a Content-Encoding the server would not undo is refused."""
    json_body = {"Content-Type": "application/json", "Content-Encoding": coding}
    for path, content in (
        ("/v1/routines", BODY),
        ("/v1/admin/import?dry_run=true", b'{"sources": [], "exercises": []}'),
    ):
        response = client.post(path, content=content, headers={**editor, **json_body})
        assert response.status_code == 415, response.text
        assert response.headers["content-type"] == PROBLEM
        [error] = response.json()["errors"]
        assert (error["location"], error["field"]) == ("header", "content-encoding")
    identity = {"Content-Type": "application/json", "Content-Encoding": "identity"}
    assert client.post("/v1/routines", content=BODY, headers=identity).status_code == 201


@pytest.mark.parametrize(
    ("path", "content", "pointer"),
    [
        ("/v1/routines", b'{"minutes": 20, "minutes": 90}', "#/minutes"),
        ("/v1/admin/import?dry_run=true", b'{"sources": [], "sources": []}', "#/sources"),
        (
            "/v1/admin/import?dry_run=true",
            b'{"sources": [], "exercises": [{"slug": "a-b", "slug": "c-d"}]}',
            "#/exercises/0/slug",
        ),
    ],
)
def test_a_repeated_json_key_is_refused_with_its_pointer(
    client: TestClient, editor: dict[str, str], path: str, content: bytes, pointer: str
) -> None:
    headers = {**editor, "Content-Type": "application/json"}
    response = client.post(path, content=content, headers=headers)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["type"] == "/problems/malformed-body"
    [error] = body["errors"]
    assert error["pointer"] == pointer
    assert "more than once" in error["message"]
