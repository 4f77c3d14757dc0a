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


def response_schema(document: dict[str, Any], method: str, path: str, status: int) -> Any:
    operation = document["paths"][path][method]
    return operation["responses"][str(status)]["content"]["application/json"]["schema"]


def keys_not_required(document: dict[str, Any], schema: Any, body: Any, at: str) -> list[str]:
    """`at.key` for every key of `body`, and of the objects inside it, that its schema leaves out
    of `required`: a field sent every time that a generated client must still test for."""
    schema = resolve(document, schema)
    if body is None:
        return []
    for option in schema.get("anyOf", []):
        option = resolve(document, option)
        if ("properties" in option) == isinstance(body, dict) and option.get("type") != "null":
            return keys_not_required(document, option, body, at)
    if isinstance(body, list):
        items = schema.get("items", {})
        return [miss for item in body for miss in keys_not_required(document, items, item, at)]
    if not isinstance(body, dict) or "properties" not in schema:
        return []
    required = set(schema.get("required", []))
    missing = [f"{at}.{key}" for key in body if key not in required]
    for key, value in body.items():
        if key in schema["properties"]:
            missing += keys_not_required(document, schema["properties"][key], value, f"{at}.{key}")
    return missing


def test_every_field_a_response_always_carries_is_required(client: TestClient) -> None:
    """A sample of real responses: each key the body carries is in its schema's `required`."""
    document = client.get("/openapi.json").json()
    created = client.post("/v1/routines", json={"sensitivity": "flexion_sensitive"})
    routine_id = created.json()["id"]
    referral = client.post(
        "/v1/routines",
        json={"red_flags": ["strain_pain_beyond_two_weeks"], "cleared_by_clinician": True},
    )
    feedback = client.post(
        f"/v1/routines/{routine_id}/feedback",
        json={"pain_before": 4, "pain_after": 3, "completed": True, "difficulty": "right"},
        headers={"Authorization": f"Bearer {created.json()['delete_token']}"},
    )
    samples = [
        ("get /v1/exercises", 200, client.get("/v1/exercises?limit=5")),
        ("get /v1/exercises/{slug}", 200, client.get("/v1/exercises/cat-stretch")),
        ("get /v1/exercises/{slug}", 200, client.get("/v1/exercises/water-exercise")),
        (
            "get /v1/exercises/{slug}/progressions",
            200,
            client.get("/v1/exercises/cat-stretch/progressions"),
        ),
        ("post /v1/routines", 201, created),
        ("post /v1/routines", 201, referral),
        ("get /v1/routines/{routine_id}", 200, client.get(f"/v1/routines/{routine_id}")),
        ("post /v1/routines/{routine_id}/feedback", 201, feedback),
        (
            "get /v1/routines/{routine_id}/feedback",
            200,
            client.get(f"/v1/routines/{routine_id}/feedback"),
        ),
        *(
            (f"get {path}", 200, client.get(path))
            for path in (
                "/v1/target-areas",
                "/v1/categories",
                "/v1/equipment",
                "/v1/positions",
                "/v1/progression-levels",
                "/v1/contraindications",
                "/v1/sources",
                "/v1/red-flags",
                "/v1/routine-rules",
            )
        ),
    ]
    missing = []
    for operation, status, response in samples:
        assert response.status_code == status, (operation, response.text)
        method, path = operation.split(" ")
        schema = response_schema(document, method, path, status)
        missing += keys_not_required(document, schema, response.json(), operation)
    assert missing == []
    assert referral.json()["referral"], "a referral was sampled"


def request_body_schemas(document: dict[str, Any]) -> set[str]:
    """The component schemas request bodies name, and those they name in turn."""
    named: set[str] = set()
    pending = [
        content["schema"]
        for methods in document["paths"].values()
        for operation in methods.values()
        for content in operation.get("requestBody", {}).get("content", {}).values()
    ]
    while pending:
        text = json.dumps(pending.pop())
        for name in re.findall(r'"#/components/schemas/([^"]+)"', text):
            if name not in named:
                named.add(name)
                pending.append(document["components"]["schemas"][name])
    return named


def test_a_request_field_with_a_default_is_optional_and_says_its_default() -> None:
    """openapi-typescript 7 types a property with `default` as always present: a request field
    the server defaults must carry no `default`, or clients would have to send it."""
    document = create_app().openapi()
    schemas = document["components"]["schemas"]
    for name in request_body_schemas(document):
        for field, prop in schemas[name].get("properties", {}).items():
            assert "default" not in prop, f"{name}.{field}"
    assert "Left out, it is `20`." in schemas["Profile"]["properties"]["minutes"]["description"]
    assert "required" not in schemas["Profile"]
    assert set(schemas["Feedback"]["required"]) == {
        "pain_before",
        "pain_after",
        "completed",
        "difficulty",
    }


def test_patch_takes_a_typed_merge_patch_as_merge_patch_or_plain_json() -> None:
    document = create_app().openapi()
    body = document["paths"]["/v1/exercises/{slug}"]["patch"]["requestBody"]["content"]
    assert set(body) == {"application/merge-patch+json", "application/json"}
    patch = resolve(document, body["application/json"]["schema"])
    exercise = document["components"]["schemas"]["Exercise"]
    assert "required" not in patch
    assert set(patch["properties"]) == set(exercise["properties"])
    for field, prop in patch["properties"].items():
        nullable = {"type": "null"} in prop.get("anyOf", [])
        assert nullable == (field not in exercise["required"]), field


def test_handouts_are_declared_as_html_and_pdf() -> None:
    document = create_app().openapi()
    handout = document["paths"]["/v1/routines/{routine_id}/handout"]["get"]["responses"]
    assert handout["200"]["content"] == {
        "text/html": {"schema": {"type": "string"}},
        "application/pdf": {"schema": {"type": "string", "format": "binary"}},
    }
    assert "content" not in handout["304"]
    assert "410" in handout


def test_every_get_declares_a_bodiless_304_and_the_description_says_head_and_405() -> None:
    document = create_app().openapi()
    for path, methods in document["paths"].items():
        if "get" in methods:
            not_modified = methods["get"]["responses"]["304"]
            assert "content" not in not_modified, path
    description = document["info"]["description"]
    assert "Every GET also answers HEAD" in description
    assert "405" in description


RATE_LIMITED = {
    ("post", "/v1/routines"),
    ("post", "/v1/routines/{routine_id}/feedback"),
    ("get", "/v1/routines/{routine_id}/handout"),
    ("post", "/v1/exercises/{slug}/media"),
}


def test_request_ids_and_rate_limits_are_declared_on_every_answer() -> None:
    """Every operation takes an optional `X-Request-ID` and names it on every answer; a
    rate-limited one declares the RateLimit fields on every answer, its 429 included."""
    document = create_app().openapi()
    request_id = {"$ref": "#/components/parameters/X-Request-ID"}
    assert document["components"]["parameters"]["X-Request-ID"]["required"] is False
    limited = set()
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            assert request_id in operation["parameters"], (method, path)
            responses = operation["responses"].values()
            assert all("X-Request-ID" in response["headers"] for response in responses), path
            if any("RateLimit" in response.get("headers", {}) for response in responses):
                limited.add((method, path))
                for status, response in operation["responses"].items():
                    assert {"RateLimit", "RateLimit-Policy"} <= set(response["headers"]), status
                assert "429" in operation["responses"], path
    assert limited == RATE_LIMITED
