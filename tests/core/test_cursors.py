"""Paging cursors: signed by itsdangerous, bound to normalised filters."""

from datetime import UTC, datetime
from typing import Any

import pytest

from app.core.cursors import Cursors, filters_of, scope_of, slug_position
from app.core.errors import InvalidParameterError
from app.domain.catalogue import ExerciseQuery
from app.domain.vocabulary import Equipment, Flag, Level


def test_equal_filters_have_one_scope_whatever_the_order_of_their_sets() -> None:
    one = ExerciseQuery(safe_for=frozenset([Flag.flexion_sensitive, Flag.extension_sensitive]))
    two = ExerciseQuery(safe_for=frozenset([Flag.extension_sensitive, Flag.flexion_sensitive]))
    paged = ExerciseQuery(safe_for=one.safe_for, after_slug="cat-stretch", limit=5)
    scopes = {scope_of(filters_of(q, "after_slug", "limit")) for q in (one, two, paged)}
    assert len(scopes) == 1
    other = ExerciseQuery(safe_for=one.safe_for, max_level=Level.beginner)
    assert scope_of(filters_of(other, "after_slug", "limit")) not in scopes


def test_no_equipment_is_not_no_filter() -> None:
    scopes = {
        scope_of(filters_of(ExerciseQuery(available_equipment=value), "after_slug", "limit"))
        for value in (None, frozenset[Equipment]())
    }
    assert len(scopes) == 2


def test_a_cursor_round_trips_and_refuses_other_scopes_and_other_keys() -> None:
    signer = Cursors("k" * 32)
    scope = scope_of({"since": datetime(2026, 11, 29, tzinfo=UTC), "q": None})
    cursor = signer.issue("cat-stretch", scope)
    assert signer.read(cursor, scope, slug_position) == "cat-stretch"
    for reader, read_scope in [(signer, scope_of({"q": "cat"})), (Cursors("j" * 32), scope)]:
        with pytest.raises(InvalidParameterError) as refused:
            reader.read(cursor, read_scope, slug_position)
        assert refused.value.errors[0].field == "cursor"


@pytest.mark.parametrize("position", [17, ["a"], None, {"after": "x"}])
def test_a_position_of_another_shape_is_refused_not_a_500(position: Any) -> None:
    signer = Cursors("k" * 32)
    cursor = signer.issue(position, "scope")
    with pytest.raises(InvalidParameterError):
        signer.read(cursor, "scope", slug_position, "_cursor")
