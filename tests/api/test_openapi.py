"""The committed contract matches what the app serves, and documents every operation."""

import json
import re
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from app.main import create_app

PROBLEM = "application/problem+json"
CONTRACT = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"


def test_committed_contract_matches_the_app() -> None:
    committed = json.loads(CONTRACT.read_text())
    assert committed == create_app().openapi(), "run `python -m app openapi` and commit the result"


def test_served_contract_is_the_committed_one(client: TestClient) -> None:
    assert client.get("/openapi.json").json() == json.loads(CONTRACT.read_text())


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def has_examples(document: dict[str, Any], operation: dict[str, Any]) -> bool:
    """Examples in the success response, the request body or the parameters."""
    schemas = [
        content[media_type]["schema"]
        for status, response in operation["responses"].items()
        if status.startswith("2")
        for content in [response.get("content", {})]
        for media_type in ("application/json", "application/fhir+json")
        if media_type in content
    ]
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if body:
        schemas.append(body["schema"])
    parameters = operation.get("parameters", [])
    return any(resolve(document, schema).get("examples") for schema in schemas) or any(
        "example" in p or "examples" in p or "examples" in p.get("schema", {}) for p in parameters
    )


def test_every_operation_has_summary_description_and_examples() -> None:
    document = create_app().openapi()
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            label = f"{method.upper()} {path}"
            assert operation.get("summary"), label
            assert operation.get("description"), label
            assert has_examples(document, operation), label


def test_every_error_response_is_problem_json_or_a_fhir_outcome() -> None:
    """problem+json everywhere but the FHIR facade, whose errors are OperationOutcomes."""
    document = create_app().openapi()
    for path, methods in document["paths"].items():
        expected = "application/fhir+json" if path.startswith("/fhir/") else PROBLEM
        for operation in methods.values():
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    assert expected in response["content"], (path, status)
                    if path.startswith("/fhir/"):
                        assert PROBLEM not in response["content"], (path, status)


SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


def operations(document: dict[str, Any]) -> dict[str, str]:
    """Each operation's id, by `METHOD /path`."""
    return {
        f"{method.upper()} {path}": operation["operationId"]
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    }


def test_operation_ids_are_short_unique_snake_case_names() -> None:
    ids = operations(create_app().openapi())
    assert len(set(ids.values())) == len(ids), "two operations share an id"
    for label, operation_id in ids.items():
        assert SNAKE_CASE.match(operation_id), label
        assert "v1" not in operation_id.split("_"), f"{label}: {operation_id} spells the path"
    pinned = {
        "GET /v1/exercises": "list_exercises",
        "GET /v1/exercises/{slug}": "get_exercise",
        "GET /v1/exercises/{slug}/progressions": "get_progressions",
        "PUT /v1/exercises/{slug}": "replace_exercise",
        "POST /v1/routines": "create_routine",
        "GET /v1/routines/{routine_id}": "get_routine",
        "POST /v1/routines/{routine_id}/feedback": "give_feedback",
        "GET /v1/target-areas": "list_target_areas_terms",
        "GET /fhir/r4/metadata": "fhir_capabilities",
    }
    assert {label: ids[label] for label in pinned} == pinned


def test_the_admin_web_ui_is_not_in_the_contract() -> None:
    assert not [path for path in create_app().openapi()["paths"] if path.startswith("/admin")]
