"""The problem types and the reporting of undecodable JSON, as functions."""

import json

import pytest
from sqlalchemy import exc

import app.main  # noqa: F401  (every module that declares a problem type is imported)
from app.core.errors import (
    HTTP_ERRORS,
    ApiError,
    field_error,
    malformed_json,
    problem_types,
    unavailable_reason,
)


@pytest.mark.parametrize(
    ("document", "where"),
    [
        ("{not json", "line 1, column 2 (character 2)"),
        ('{\n  "a": 1,\n  oops\n}', "line 3, column 3 (character 15)"),
        ("\n\n\n[1,,2]", "line 4, column 4 (character 7)"),
    ],
)
def test_a_decoding_error_says_line_column_and_character(document: str, where: str) -> None:
    with pytest.raises(json.JSONDecodeError) as decoding:
        json.loads(document)
    error = decoding.value
    for body in (document, document.encode()):
        problem = malformed_json(body, error.pos, error.msg)
        assert problem.status == 400
        assert problem.slug == "malformed-body"
        assert where in problem.detail
        [field] = problem.errors
        assert (field.location, field.field, field.pointer) == ("body", "body", "#")


def test_every_problem_type_describes_itself() -> None:
    """Its description is what its /problems page says: a new type must say what it means."""
    for kind in problem_types().values():
        assert "description" in vars(kind), f"{kind.__name__} needs its own description"


def test_every_problem_type_is_a_distinct_slug() -> None:
    kinds = problem_types()
    assert kinds["bad-request"] is ApiError
    assert all(kinds[kind.slug] is kind for kind in kinds.values())
    for kind in HTTP_ERRORS.values():
        assert kind.slug in kinds
    for slug in (
        "request-timeout",
        "request-header-fields-too-large",
        "content-too-large",
        "too-many-requests",
        "invalid-content",
        "unsupported-media-type",
    ):
        assert slug in kinds


@pytest.mark.parametrize(
    ("location", "pointer"),
    [
        (("body",), "#"),
        (("body", "minutes"), "#/minutes"),
        (("body", "red_flags", 2), "#/red_flags/2"),
        (("body", "a/b~c"), "#/a~1b~0c"),
    ],
)
def test_a_body_error_points_into_the_body_as_rfc_6901_says(
    location: tuple[str | int, ...], pointer: str
) -> None:
    error = field_error({"loc": location, "msg": "invalid"})
    assert (error.location, error.pointer) == ("body", pointer)


def test_a_database_outage_is_logged_by_its_cause_not_by_sqlalchemys_autoflush_hint() -> None:
    cut = ConnectionResetError("consuming input failed: server closed the connection\nmore")
    error = exc.OperationalError("INSERT INTO routine VALUES (%(profile)s)", {}, cut)
    error.add_detail("raised as a result of Query-invoked autoflush; consider using a session")
    reason = unavailable_reason(error)
    assert reason == "ConnectionResetError: consuming input failed: server closed the connection"
    assert unavailable_reason(TimeoutError("no connection came free")) == "no connection came free"
