"""The pure FHIR mappings, without HTTP: FHIR's JSON rules, names, dosages, timings, plans."""

from typing import Any

from fhir.resources.R4B.plandefinition import PlanDefinition
from hypothesis import given
from hypothesis import strategies as st

from app.domain.exercise import Dosage
from app.domain.fhir.activity import fhir_dosage
from app.domain.fhir.common import Canonical, compact, computable_name
from app.domain.fhir.plan import plan_definition, timing
from app.domain.routines.advice import ROUTINE_FREQUENCIES
from app.domain.routines.profile import Phase

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


def test_only_known_frequency_texts_get_a_structured_repeat() -> None:
    known = compact(timing(ROUTINE_FREQUENCIES[Phase.acute], 60))
    assert known["repeat"] == {
        "frequency": 3,
        "period": 1,
        "periodUnit": "d",
        "duration": 60,
        "durationUnit": "s",
    }
    unknown = compact(timing("Twice on Sundays.", None))
    assert unknown == {"code": {"text": "Twice on Sundays."}}


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
