"""The summary's fields are one list: the snapshot's ready JSON (`LIST_FIELDS`), the contract's
`ExerciseSummary` and its example name the same fields in the same order."""

from app.api.schemas import SUMMARY_EXAMPLE, ExerciseSummary
from app.domain.catalogue import LIST_FIELDS


def test_the_summary_fields_are_one_list() -> None:
    assert tuple(ExerciseSummary.model_fields) == LIST_FIELDS
    assert tuple(SUMMARY_EXAMPLE) == LIST_FIELDS
