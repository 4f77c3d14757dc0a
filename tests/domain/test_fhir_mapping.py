"""The pure FHIR mappings, without HTTP: FHIR's JSON rules, names, dosages, timings, plans."""

from typing import Any

from fhir.resources.R4B.plandefinition import PlanDefinition
from hypothesis import given
from hypothesis import strategies as st

from app.domain.exercise import Dosage
from app.domain.fhir.activity import fhir_dosage
from app.domain.fhir.common import Canonical, compact, computable_name
from app.domain.fhir.plan import block_repeat, plan_definition, timing

CANONICAL = Canonical("https://backcare.example/fhir/r4")


def test_compact_drops_nulls_and_empties_but_keeps_false_and_zero() -> None:
    assert compact({"a": None, "b": [], "c": {}, "d": "", "e": False, "f": 0, "g": [None, {}]}) == {
        "e": False,
        "f": 0,
    }


@given(st.from_regex(r"[a-z0-9]+(-[a-z0-9]+){0,4}", fullmatch=True))
def test_computable_names_follow_fhirs_pattern(slug: str) -> None:
    name = computable_name(slug)
    assert name[0].isupper()
    assert name.isalnum()


def test_a_hold_range_is_a_dose_range_and_per_side_says_so() -> None:
    dosage = Dosage(source="a-source", reps=10, hold_seconds=5, hold_seconds_max=10, per_side=True)
    mapped = fhir_dosage(CANONICAL, dosage, "A source")
    kinds = {dose["type"]["coding"][0]["code"]: dose for dose in mapped["doseAndRate"]}
    assert kinds["repetitions-each-side"]["doseQuantity"]["value"] == 10
    assert kinds["hold"]["doseRange"] == {
        "low": {"value": 5, "unit": "s", "system": "http://unitsofmeasure.org", "code": "s"},
        "high": {"value": 10, "unit": "s", "system": "http://unitsofmeasure.org", "code": "s"},
    }
    assert mapped["text"].startswith("10 repetitions on each side, hold 5-10 s")


def test_structured_frequency_becomes_a_repeat_per_block() -> None:
    frequency = {
        "routine": "Three times a day.",
        "aerobic": "Three to four times a week.",
        "times_per_day": 3,
        "aerobic_times_per_week": 3,
    }
    stored = {"frequency": frequency}
    assert block_repeat(stored, {"name": "warm_up"}) == {
        "frequency": 3,
        "period": 1,
        "periodUnit": "d",
    }
    assert block_repeat(stored, {"name": "aerobic"}) == {
        "frequency": 3,
        "frequencyMax": 4,
        "period": 1,
        "periodUnit": "wk",
    }
    assert block_repeat({"frequency": {"routine": "Often."}}, {"name": "warm_up"}) == {}
    assert compact(timing("Twice on Sundays.", {})) == {"code": {"text": "Twice on Sundays."}}


def routine(**changes: Any) -> dict[str, Any]:
    return {
        "id": "5f0c6a4e-8a7b-4e0f-9a55-2f7f1e0c9d31",
        "created_at": "2026-11-29T10:00:00+00:00",
        "outcome": "routine",
        "blocks": [],
        "estimated_minutes": 0,
        "frequency": None,
        "safety_notes": ["Stop if it hurts."],
        "citations": [],
        "referral": None,
        "explanation": "Nothing fits this profile.",
        "previous_routine_id": None,
        **changes,
    }


def test_an_empty_routine_is_a_plan_without_actions() -> None:
    plan = plan_definition(CANONICAL, routine())
    PlanDefinition.model_validate(plan)
    assert "action" not in plan
    assert plan["description"] == "Nothing fits this profile."


def test_a_follow_up_routine_names_its_predecessor() -> None:
    previous = "0b6c2d8e-1f3a-4c5b-9d7e-8f9a0b1c2d3e"
    plan = plan_definition(CANONICAL, routine(previous_routine_id=previous))
    PlanDefinition.model_validate(plan)
    assert plan["relatedArtifact"] == [
        {"type": "predecessor", "resource": f"{CANONICAL.base}/PlanDefinition/{previous}"}
    ]
