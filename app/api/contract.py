"""The OpenAPI document as generated clients read it: what FastAPI writes, then the caching
headers (`app.api.http_cache.document_caching`), `X-Request-ID` on every operation (an optional
request header) and every answer, the RateLimit fields on every answer of a rate-limited operation,
the FHIR resources' schemas (`app.api.fhir_schemas`), and these two adjustments, made once:

- A request field left out takes its default on the server, so it is optional in the contract.
  A `default` beside it would make openapi-typescript 7 (with its default `defaultNonNullable`)
  type it as always present, so every client would have to send it: the default is said in the
  field's description instead, and the field stays out of `required`. Response models list every
  field they always send in `required` (`app.domain.schema_config.ALWAYS_PRESENT`).
- PATCH's body is an RFC 7396 merge patch of an exercise (`ExerciseMergePatch`), derived from
  the `Exercise` schema: every field optional; `null`, which removes a field, is allowed where
  the exercise may lack the field (it then takes its default), never on a required one.
"""

from collections.abc import Callable
from typing import Any

from app.api.fhir_schemas import FHIR_SCHEMAS
from app.api.http_cache import document_caching
from app.api.response_headers import RATE_LIMIT_HEADERS
from app.core.request_ids import USABLE

MERGE_PATCH = "ExerciseMergePatch"
MERGE_PATCH_SOURCE = "Exercise"
NULL = {"type": "null"}


def without_request_defaults(schemas: dict[str, Any]) -> None:
    """Move each optional property's `default` into its description."""
    for schema in schemas.values():
        required = set(schema.get("required", ()))
        for name, prop in schema.get("properties", {}).items():
            if name in required or "default" not in prop:
                continue
            default = prop.pop("default")
            description = prop.get("description", "")
            if "default" not in description.lower():
                said = f"Left out, it is `{_json_text(default)}`."
                prop["description"] = f"{description} {said}".strip()


def _json_text(value: Any) -> str:
    if value is True or value is False:
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)


def merge_patch_schema(exercise: dict[str, Any]) -> dict[str, Any]:
    """The merge patch that `exercise` (a component schema) admits: each property optional,
    nullable unless the exercise requires it."""
    required = set(exercise.get("required", ()))
    properties: dict[str, Any] = {}
    for name, prop in exercise["properties"].items():
        if name in required:
            properties[name] = prop
            continue
        annotations = {key: prop[key] for key in ("title", "description") if key in prop}
        value = {key: item for key, item in prop.items() if key not in annotations}
        alternatives = value["anyOf"] if list(value) == ["anyOf"] else [value]
        if NULL not in alternatives:
            alternatives = [*alternatives, NULL]
        properties[name] = {"anyOf": alternatives, **annotations}
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
        "title": MERGE_PATCH,
        "description": "An RFC 7396 JSON merge patch of an exercise: only the fields to change. "
        "`null` removes a field, which then takes its default; a field every exercise has "
        "cannot be removed. Lists are replaced whole; `progressions` is merged member by member.",
    }


REQUEST_ID_HEADER = {
    "description": "This request's id: the client's own `X-Request-ID` when it sent a usable "
    "one (1 to 128 visible ASCII characters), else one made for it. Problem documents name it "
    "as `request_id`, and the server's log line for the request ends with it.",
    "required": True,
    "schema": {"type": "string"},
}


REQUEST_ID_PARAMETER = {
    "name": "X-Request-ID",
    "in": "header",
    "required": False,
    "description": "A name for this request, to quote it later: 1 to 128 visible ASCII "
    "characters. The answer echoes it in `X-Request-ID` (and a problem document as `request_id`, "
    "an OperationOutcome at the end of each issue's `diagnostics`). Left out, or not usable, the "
    "server makes one.",
    "schema": {"type": "string", "pattern": f"^{USABLE.pattern.decode()}$"},
    "example": "checkout-2026-12-08-0001",
}


def operations_of(schema: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        operation
        for operations in schema.get("paths", {}).values()
        for operation in operations.values()
    ]


def document_request_ids(schema: dict[str, Any]) -> None:
    """`X-Request-ID` on every operation, as an optional request header, and on every answer."""
    components = schema.setdefault("components", {})
    components.setdefault("headers", {})["X-Request-ID"] = REQUEST_ID_HEADER
    components.setdefault("parameters", {})["X-Request-ID"] = REQUEST_ID_PARAMETER
    for operation in operations_of(schema):
        operation.setdefault("parameters", []).append(
            {"$ref": "#/components/parameters/X-Request-ID"}
        )
        for response in operation.get("responses", {}).values():
            response.setdefault("headers", {})["X-Request-ID"] = {
                "$ref": "#/components/headers/X-Request-ID"
            }


def document_rate_limits(schema: dict[str, Any]) -> None:
    """An operation that declares the RateLimit fields on one answer (it is rate limited)
    declares them on every answer: a refusal, a 429 above all, says what is left too."""
    headers = schema.setdefault("components", {}).setdefault("headers", {})
    headers.update(RATE_LIMIT_HEADERS)
    refs = {name: {"$ref": f"#/components/headers/{name}"} for name in RATE_LIMIT_HEADERS}
    for operation in operations_of(schema):
        responses = operation.get("responses", {}).values()
        if any("RateLimit" in response.get("headers", {}) for response in responses):
            for response in responses:
                response.setdefault("headers", {}).update(refs)


def document_client_shapes(schema: dict[str, Any]) -> dict[str, Any]:
    document_request_ids(schema)
    document_rate_limits(schema)
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(FHIR_SCHEMAS)
    without_request_defaults(schemas)
    if MERGE_PATCH_SOURCE in schemas:
        schemas[MERGE_PATCH] = merge_patch_schema(schemas[MERGE_PATCH_SOURCE])
    return schema


def shaped_openapi(generate: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
    """`app.openapi`, made once: FastAPI's document with the caching headers and the shapes
    above."""
    done: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        if not done:
            done.append(document_client_shapes(document_caching(generate())))
        return done[0]

    return openapi
