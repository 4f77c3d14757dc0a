"""Property-based conformance: schemathesis generates requests from the app's own OpenAPI document
and checks every answer against it (status codes, content types, bodies, no server errors), and
the response headers it declares: those declared `required` (Cache-Control on every answer, ETag
on a GET's, Location on a creation's, Retry-After on a 429 or 503) must be sent, and every
declared header that is sent must match its schema."""

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from app.core.settings import Settings
from app.main import create_app

EXAMPLES_PER_OPERATION = 40


@pytest.fixture(scope="module")
def running_app(database_url: str) -> Iterator[FastAPI]:
    app = create_app(Settings(database_url=database_url))
    with TestClient(app):
        yield app


def operations(app: FastAPI) -> list[Any]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    # The API refuses NUL in every string (400, as its description says) because PostgreSQL
    # cannot store it; JSON Schema has no way to say "any character but NUL" short of a pattern
    # on every string.
    schema.config.generation.update(allow_x00=False)
    results: list[Any] = list(schema.get_all_operations())
    return [result.ok() for result in results]


PROGRAM_PATHS = ("/v1/routine-checks", "/v1/programs")
"""A program names exercises by slug, and only the catalogue says which slugs exist (and which
doses each can take): a well-formed program of unknown exercises is rightly a 422 naming them."""


FHIR_BODIES = (
    "/fhir/r4/PlanDefinition/{resource_id}/$apply",
    "/fhir/r4/Questionnaire/red-flags/$evaluate",
)
"""Their bodies are FHIR resources (Parameters, a QuestionnaireResponse), which the contract types
by their R4 elements; what the operation's own rules refuse (a screening not answered in full, a
subject that is no reference) is rightly a 400."""


def excluded_for(case: Any) -> list[Any]:
    """A generated cursor is well-formed but not one the API issued: 400 is the right answer."""
    query = case.query or {}
    fhir_body = case.method.upper() == "POST" and case.path in FHIR_BODIES
    if "cursor" in query or "_cursor" in query or case.path in PROGRAM_PATHS or fhir_body:
        return [positive_data_acceptance]
    return []


def test_every_operation_conforms(running_app: FastAPI) -> None:
    checked = []
    for operation in operations(running_app):

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def conforms(case: Any) -> None:
            case.call_and_validate(excluded_checks=excluded_for(case))

        conforms()
        checked.append(operation.label)
    assert "GET /v1/exercises" in checked
