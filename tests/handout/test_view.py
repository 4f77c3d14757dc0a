"""The handout's words, from stored routine documents: the pure view model."""

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.routines import Feedback
from app.domain.routines.rules import ROUTINE_RULES, RuleKind
from app.handout.render import render_html
from app.handout.view import (
    LOG_QUESTIONS,
    NOT_MEDICAL_ADVICE,
    STOP_RULE,
    Photo,
    dosage_line,
    handout_view,
    purpose,
)

URL = "https://backcare.example/v1/routines/r1/handout"


def item(**fields: Any) -> dict[str, Any]:
    exercise = {
        "name": "Heel raises",
        "summary": "Rise onto your toes.",
        "steps": ["Stand tall.", "Rise up."],
        "position": "standing",
        "cautions": ["Hold a chair for balance."],
    }
    dosage = {"sets": 1, "reps": 10, "hold_seconds": None, "per_side": False}
    return {
        "exercise": exercise,
        **dosage,
        "rest_seconds": 30,
        "duration_minutes": None,
        "estimated_seconds": 90,
        "reasons": [],
        **fields,
    }


def routine(*items: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "id": "r1",
        "created_at": "2026-11-29T13:28:38.933400+00:00",
        "outcome": "routine",
        "profile": {"sensitivity": "flexion_sensitive", "phase": "acute", "leg_symptoms": False},
        "blocks": [{"name": "strength", "title": "Strength and stabilisation", "items": [*items]}],
        "estimated_seconds": 900,
        "frequency": {"routine": "Three times a day while you are in pain.", "aerobic": None},
        "safety_notes": [
            "Stop any exercise that increases your pain or brings on new pain.",
            "Move slowly.",
        ],
        "citations": [{"source": "s", "title": "Back Injury Rehabilitation"}],
        "referral": None,
        "explanation": None,
        **fields,
    }


def test_the_dosage_line_reads_as_the_issue_writes_it() -> None:
    line = dosage_line(item(sets=3, reps=10, hold_seconds=5, per_side=True, rest_seconds=30))
    assert line == "3 sets of 10, hold 5 seconds, each side, rest 30 seconds between sets"
    assert dosage_line(item()) == "1 set of 10"
    assert dosage_line(item(duration_minutes=22, reps=None)) == "Keep going for 22 minutes"
    assert dosage_line(item(sets=3, reps=None, hold_seconds=20, rest_seconds=0)) == (
        "3 sets, hold 20 seconds"
    )


def test_the_profile_reads_as_a_sentence() -> None:
    lying = item(exercise={**item()["exercise"], "position": "supine"})
    assert purpose(routine(lying, item())) == (
        "For a back that dislikes bending forward, done lying on your back or standing, "
        "about 15 minutes, while your back is painful."
    )


def test_safety_comes_first_and_the_stop_rule_is_said_once() -> None:
    view = handout_view(routine(item()), URL)
    assert view.safety[:2] == [STOP_RULE, NOT_MEDICAL_ADVICE]
    assert sum("Stop any exercise" in line for line in view.safety) == 1
    assert "Move slowly." in view.safety


def test_design_choices_are_labelled() -> None:
    chosen = item(
        reasons=[
            {"code": "fill", "detail": "Added to use the time you have."},
            {"code": "dosage_completed", "detail": "The source gives no count; 5 is ours."},
        ]
    )
    (exercise,) = handout_view(routine(chosen), URL).blocks[0].exercises
    assert exercise.choices == ["Our choice: The source gives no count; 5 is ours."]
    assert exercise.cues == []


def test_safety_cues_print_as_instructions_and_unknown_rules_print_too() -> None:
    chosen = item(
        reasons=[
            {"code": "standing_support", "rule": "standing-support", "detail": "Hold a chair."},
            {"code": "leg_symptoms", "rule": "leg-symptoms-gentle-pull", "detail": "Gently."},
            {"code": "hold_range", "rule": "hold-range", "detail": "Lower end."},
            {"code": "new_code", "rule": "a-rule-from-a-newer-release", "detail": "Careful."},
        ]
    )
    (exercise,) = handout_view(routine(chosen), URL).blocks[0].exercises
    assert exercise.cues == ["Hold a chair.", "Gently.", "Careful."]
    assert exercise.choices == ["Our choice: Lower end."]


@pytest.mark.parametrize("kind", list(RuleKind))
def test_every_rule_kind_prints_as_its_kind(kind: RuleKind) -> None:
    """Each rule of each kind, shown as an item reason: safety cues as instructions, design
    choices labelled, information left to the API."""
    for rule in (rule for rule in ROUTINE_RULES if rule.kind is kind):
        reason = {"code": rule.code or "x", "rule": rule.id.value, "detail": f"<{rule.id}>"}
        (exercise,) = handout_view(routine(item(reasons=[reason])), URL).blocks[0].exercises
        printed = {
            RuleKind.safety_cue: exercise.cues,
            RuleKind.design_choice: [c.removeprefix("Our choice: ") for c in exercise.choices],
            RuleKind.information: [],
        }[kind]
        assert printed == ([] if kind is RuleKind.information else [f"<{rule.id}>"])
        assert len(exercise.cues) + len(exercise.choices) == len(printed)


def test_the_log_asks_every_feedback_question_once_per_session() -> None:
    view = handout_view(routine(item(), frequency={"routine": "x", "times_per_day": 3}), URL)
    assert len(view.log_questions) == len(Feedback.model_fields)
    assert set(view.log_questions) == set(LOG_QUESTIONS.values())
    assert view.log_sessions == 3
    once = handout_view(routine(item(), frequency={"routine": "x", "times_per_day": 1}), URL)
    assert once.log_sessions == 1


def test_aerobic_frequency_only_with_aerobic_work() -> None:
    frequency = {"routine": "Daily.", "aerobic": "30 minutes, 3-4 times a week."}
    without = handout_view(routine(item(), frequency=frequency), URL)
    assert without.how_often == ["This routine: Daily."]
    blocks = [{"name": "aerobic", "title": "Low-impact aerobic", "items": [item()]}]
    with_aerobic = handout_view(routine(frequency=frequency, blocks=blocks), URL)
    assert with_aerobic.how_often[-1] == "Aerobic exercise: 30 minutes, 3-4 times a week."


def test_a_referral_has_no_exercises_and_no_log() -> None:
    flag = {"question": "Fever?", "advice": "Seek care now.", "urgency": "emergency"}
    referral = {"urgency": "emergency", "advice": "Seek care now.", "red_flags": [flag]}
    view = handout_view(routine(item(), outcome="refer", referral=referral), URL)
    assert view.is_referral
    assert view.blocks == []
    assert view.log_rows == []
    assert view.urgency.startswith("Now")
    assert [flag.question for flag in view.flags] == ["Fever?"]


@settings(max_examples=60, deadline=None)
@given(
    sets=st.integers(1, 5),
    reps=st.none() | st.integers(1, 30),
    hold=st.none() | st.integers(1, 60),
    per_side=st.booleans(),
)
def test_every_dosage_line_names_its_numbers(
    sets: int, reps: int | None, hold: int | None, per_side: bool
) -> None:
    line = dosage_line(item(sets=sets, reps=reps, hold_seconds=hold, per_side=per_side))
    assert line.startswith(f"{sets} set")
    assert (f"of {reps}" in line) == (reps is not None)
    assert (f"hold {hold} second" in line) == (hold is not None)
    assert ("each side" in line) == per_side


def test_a_cleared_routine_says_keep_your_follow_up_appointment() -> None:
    advice = "See a physician about pain lasting beyond two weeks."
    referral = {
        "urgency": "soon",
        "advice": advice,
        "red_flags": [],
        "cleared_by_clinician": True,
    }
    view = handout_view(routine(item(), referral=referral), URL)
    assert not view.is_referral
    assert view.blocks
    assert view.safety[:2] == [STOP_RULE, NOT_MEDICAL_ADVICE]
    assert "keep your follow-up appointment" in view.safety[2]
    assert all(advice not in line for line in view.safety)


def test_an_editors_image_prints_instead_of_the_drawing_with_its_credit() -> None:
    photo = Photo("data:image/png;base64,iVBORw0KGgo=", "Rising onto the toes.", "Image: A, B, C")
    pictured = item(exercise={**item()["exercise"], "slug": "heel-raises", "version": 2})
    drawn = item(exercise={**item()["exercise"], "slug": "ankle-pumps", "version": 1})

    def photos(slug: str, version: int) -> Photo | None:
        return photo if (slug, version) == ("heel-raises", 2) else None

    view = handout_view(routine(pictured, drawn), URL, lambda slug, version: "<svg/>", photos)
    with_photo, with_drawing = view.blocks[0].exercises
    assert (with_photo.photo, with_photo.picture) == (photo, "")
    assert (with_drawing.photo, with_drawing.picture) == (None, "<svg/>")
    page = render_html(view, None)
    assert f'<img src="{photo.data_uri}" alt="{photo.alt}">' in page
    assert f'<p class="credit">{photo.credit}</p>' in page
