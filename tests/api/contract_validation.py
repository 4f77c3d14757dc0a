"""An answer checked against the committed contract (openapi/openapi.json): its status is declared
for its operation, its media type is one the status lists, and its body validates against the
declared schema, closed: every object the contract describes with `properties` is checked as if
it had `additionalProperties: false`, so an element the server emits but the contract does not
name fails here (the contract itself stays open, so clients ignore what a later version adds)."""

import copy
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs

CONTRACT = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"


@cache
def contract() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(CONTRACT.read_text())
    return document


def closed(schema: Any) -> Any:
    """The schema with every object that lists its properties closed to others."""
    if isinstance(schema, list):
        return [closed(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    shut = {key: closed(value) for key, value in schema.items()}
    if "properties" in schema and "additionalProperties" not in schema:
        shut["additionalProperties"] = False
    return shut


@cache
def closed_components() -> dict[str, Any]:
    components: dict[str, Any] = closed(copy.deepcopy(contract()["components"]["schemas"]))
    return components


@cache
def templates() -> list[tuple[re.Pattern[str], str]]:
    """Each contract path as a regex, literal paths before templated ones."""
    found = []
    for path in contract()["paths"]:
        parts = re.split(r"(\{[^}]+\})", path)
        pattern = "".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts)
        found.append((re.compile(f"^{pattern}$"), path))
    return sorted(found, key=lambda item: item[1].count("{"))


def operation_of(method: str, path: str) -> tuple[str, dict[str, Any]] | None:
    for pattern, template in templates():
        operations = contract()["paths"][template]
        if pattern.match(path) and method.lower() in operations:
            return template, operations[method.lower()]
    return None


@cache
def validator(status_schema: str) -> Any:
    schema = json.loads(status_schema)
    return jsonschema_rs.Draft202012Validator(
        {**schema, "components": {"schemas": closed_components()}}
    )


def assert_declared(response: Any) -> None:
    """The answer (an httpx response, as a test client or a live server's gives it) is what the
    contract declares for its operation (see the module's docstring).
    An answer to a path no operation declares (a FHIR interaction the facade refuses) passes."""
    request = response.request
    found = operation_of(request.method, request.url.path)
    if found is None:
        return
    template, operation = found
    label = f"{request.method} {template} {response.status_code}"
    declared = operation["responses"].get(str(response.status_code))
    assert declared is not None, f"{label}: the status is not declared"
    if not response.content or request.method == "HEAD":
        return
    media_type = response.headers["content-type"].split(";")[0].strip()
    content = declared.get("content", {})
    assert media_type in content, f"{label}: {media_type} is not declared ({list(content)})"
    schema = content[media_type].get("schema")
    if schema is None or not media_type.endswith("json"):
        return
    errors = [
        f"{'/'.join(map(str, error.instance_path))}: {error.message}"
        for error in validator(json.dumps(closed(schema), sort_keys=True)).iter_errors(
            response.json()
        )
    ][:5]
    assert not errors, f"{label}: the body does not match the contract: {errors}"


def parameters_of(document: dict[str, Any], operation: dict[str, Any]) -> list[dict[str, Any]]:
    """An operation's parameters, each shared one (`$ref` to components) read from where it is."""
    shared = document.get("components", {}).get("parameters", {})
    return [
        shared[parameter["$ref"].rsplit("/", 1)[-1]] if "$ref" in parameter else parameter
        for parameter in operation.get("parameters", [])
    ]
