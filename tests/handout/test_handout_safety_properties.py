"""The printed sheet says everything the routine says that keeps a person safe: HTML handouts of
random routines over the real seeded catalogue hold every safety note, every caution, every item
reason of kind safety cue, the frequency, and a log that asks every question the feedback
endpoint asks, one box per session of the day."""

import html
import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from seeded import random_profiles, seeded_catalogue

from app.domain.routines import Feedback, Profile, RedFlagId
from app.domain.routines.engine import generate_routine
from app.domain.routines.rules import RULES_BY_ID, RuleId, RuleKind
from app.handout.render import render_html
from app.handout.view import LOG_QUESTIONS, STOP_RULE, handout_view

URL = "https://backcare.example/v1/routines/r1/handout"
SOON_FLAGS = [
    RedFlagId.strain_pain_beyond_two_weeks,
    RedFlagId.history_of_cancer,
    RedFlagId.unexplained_weight_loss,
]


profiles = random_profiles(
    most_target_areas=2,
    most_equipment=5,
    most_minutes=60,
    red_flags=st.one_of(st.just([]), st.lists(st.sampled_from(SOON_FLAGS), max_size=1)),
    cleared_by_clinician=st.just(True),
)


def document(profile: Profile, seed: int) -> dict[str, Any]:
    """The stored routine the handout reads, as the service writes it."""
    plan = generate_routine(seeded_catalogue(), profile, seed)
    return {
        "id": "r1",
        "created_at": "2026-12-01T09:00:00.000000Z",
        "profile": {**profile.model_dump(mode="json"), "seed": seed},
        "previous_routine_id": None,
        "earlier_routine_ids": [],
        **plan.model_dump(mode="json"),
    }


def text_of(page: str) -> str:
    """The words of the page, unescaped, with whitespace collapsed."""
    return flat(html.unescape(re.sub(r"<[^>]+>", " ", page)))


def flat(words: str) -> str:
    return " ".join(words.split())


def safety_texts(routine: dict[str, Any]) -> list[str]:
    """What the routine says that keeps a person safe: its safety notes (the stop rule in the
    sheet's own words first; a cleared referral's advice aside: the sheet says to keep the
    follow-up appointment instead), every exercise's
    cautions, every item reason of kind safety cue, and how often to do it."""
    referral_advice = (routine.get("referral") or {}).get("advice")
    texts = [
        STOP_RULE if note.startswith("Stop any exercise") else note
        for note in routine["safety_notes"]
        if note != referral_advice
    ]
    for block in routine["blocks"]:
        for item in block["items"]:
            texts.extend(item["exercise"]["cautions"])
            texts.extend(
                reason["detail"]
                for reason in item["reasons"]
                if RULES_BY_ID[RuleId(reason["rule"])].kind is RuleKind.safety_cue
            )
    texts.append(routine["frequency"]["routine"])
    return texts


@settings(max_examples=200, deadline=None)
@given(profiles, st.integers(min_value=0, max_value=2**31 - 1))
def test_the_sheet_holds_every_safety_text_and_every_feedback_question(
    profile: Profile, seed: int
) -> None:
    routine = document(profile, seed)
    page = render_html(handout_view(routine, URL), None)
    text = text_of(page)
    for words in safety_texts(routine):
        assert flat(words) in text, words
    if routine["referral"] is not None:
        assert "keep your follow-up appointment" in text
    items = [item for block in routine["blocks"] for item in block["items"]]
    if not items:
        return
    for field in Feedback.model_fields:
        assert LOG_QUESTIONS[field] in text, field
    sessions = routine["frequency"]["times_per_day"]
    assert page.count('class="box"') == len(items) * 7 * sessions
    assert page.count('class="slot"') == len(Feedback.model_fields) * 7 * sessions
    for item in items:
        for reason in item["reasons"]:
            if RULES_BY_ID[RuleId(reason["rule"])].kind is RuleKind.safety_cue:
                assert f"Our choice: {flat(reason['detail'])}" not in text
