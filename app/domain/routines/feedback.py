"""After a session: advance, repeat, regress, or stop and consult, and the next profile.

Rules are checked in order and the first that applies decides; each has a stable id a client can
store and a sentence it can show.
"""

from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from app.domain.routines.profile import MAXIMUM_MINUTES, MINIMUM_MINUTES, Profile
from app.domain.vocabulary import LEVEL_ORDER

PAIN_RISE_TO_STOP = 3
MINUTES_STEP = 5


class Difficulty(StrEnum):
    easy = "easy"
    right = "right"
    hard = "hard"


class Recommendation(StrEnum):
    advance = "advance"
    repeat = "repeat"
    regress = "regress"
    stop_and_consult = "stop_and_consult"


class Feedback(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "pain_before": 4,
                    "pain_after": 3,
                    "completed": True,
                    "difficulty": "right",
                    "new_leg_symptoms": False,
                }
            ]
        },
    )

    pain_before: int = Field(ge=0, le=10, description="Pain before the session, 0 (none) to 10.")
    pain_after: int = Field(ge=0, le=10, description="Pain after the session, 0 (none) to 10.")
    completed: bool = Field(description="Whether the whole routine was done.")
    difficulty: Difficulty = Field(description="How the routine felt: easy, right or hard.")
    new_leg_symptoms: bool = Field(
        default=False,
        description="New pain, numbness, tingling or weakness in a leg since the session.",
    )

    @property
    def pain_change(self) -> int:
        return self.pain_after - self.pain_before


class FeedbackRule(StrEnum):
    new_leg_symptoms = "new-leg-symptoms"
    pain_rose_sharply = "pain-rose-sharply"
    pain_rose = "pain-rose"
    too_hard = "too-hard"
    not_completed = "not-completed"
    easy_without_pain = "easy-without-more-pain"
    about_right = "about-right"


RULE_TEXTS: dict[FeedbackRule, str] = {
    FeedbackRule.new_leg_symptoms: (
        "New symptoms in a leg after exercise: stop the routine and contact your doctor."
    ),
    FeedbackRule.pain_rose_sharply: (
        f"Pain rose by {PAIN_RISE_TO_STOP} points or more: stop the routine and contact your "
        "doctor."
    ),
    FeedbackRule.pain_rose: "Pain rose a little: make the next routine gentler.",
    FeedbackRule.too_hard: "The routine felt hard: make the next one gentler.",
    FeedbackRule.not_completed: (
        "The routine was not finished but felt manageable: repeat it before moving on."
    ),
    FeedbackRule.easy_without_pain: (
        "The whole routine felt easy and pain did not rise: move on to a harder one."
    ),
    FeedbackRule.about_right: "The routine felt about right: repeat it.",
}

RULE_RECOMMENDATIONS: dict[FeedbackRule, Recommendation] = {
    FeedbackRule.new_leg_symptoms: Recommendation.stop_and_consult,
    FeedbackRule.pain_rose_sharply: Recommendation.stop_and_consult,
    FeedbackRule.pain_rose: Recommendation.regress,
    FeedbackRule.too_hard: Recommendation.regress,
    FeedbackRule.not_completed: Recommendation.repeat,
    FeedbackRule.easy_without_pain: Recommendation.advance,
    FeedbackRule.about_right: Recommendation.repeat,
}


class FeedbackOutcome(BaseModel):
    model_config = ConfigDict(frozen=True)

    recommendation: Recommendation
    rule_id: FeedbackRule
    rule: str
    adjustment: str | None
    """What changed in next_profile, in words; None when nothing did."""
    next_profile: Profile | None
    """None for stop_and_consult. Its seed is cleared so the next routine may vary."""


def applicable_rule(feedback: Feedback) -> FeedbackRule:
    if feedback.new_leg_symptoms:
        return FeedbackRule.new_leg_symptoms
    if feedback.pain_change >= PAIN_RISE_TO_STOP:
        return FeedbackRule.pain_rose_sharply
    if feedback.pain_change > 0:
        return FeedbackRule.pain_rose
    if feedback.difficulty is Difficulty.hard:
        return FeedbackRule.too_hard
    if not feedback.completed:
        return FeedbackRule.not_completed
    if feedback.difficulty is Difficulty.easy:
        return FeedbackRule.easy_without_pain
    return FeedbackRule.about_right


def recommend(profile: Profile, feedback: Feedback) -> FeedbackOutcome:
    rule = applicable_rule(feedback)
    recommendation = RULE_RECOMMENDATIONS[rule]
    change = next_profile_change(profile, recommendation)
    return FeedbackOutcome(
        recommendation=recommendation,
        rule_id=rule,
        rule=RULE_TEXTS[rule],
        adjustment=None if change is None else change.description,
        next_profile=None if change is None else change.profile,
    )


@dataclass(frozen=True)
class ProfileChange:
    profile: Profile
    description: str | None


def next_profile_change(profile: Profile, recommendation: Recommendation) -> ProfileChange | None:
    if recommendation is Recommendation.stop_and_consult:
        return None
    if recommendation is Recommendation.advance:
        return advanced(profile)
    if recommendation is Recommendation.regress:
        return regressed(profile)
    return ProfileChange(profile.model_copy(update={"seed": None}), None)


def advanced(profile: Profile) -> ProfileChange:
    """Level up when possible, else a longer routine (more sets and exercises)."""
    rank = profile.level.rank
    if rank + 1 < len(LEVEL_ORDER):
        level = LEVEL_ORDER[rank + 1]
        return _changed(profile, {"level": level}, f"Level raised to {level.value}.")
    if profile.minutes < MAXIMUM_MINUTES:
        minutes = min(MAXIMUM_MINUTES, profile.minutes + MINUTES_STEP)
        return _changed(profile, {"minutes": minutes}, f"Routine lengthened to {minutes} minutes.")
    return _changed(profile, {}, "Already the top level and the longest routine: keep it up.")


def regressed(profile: Profile) -> ProfileChange:
    """Level down when possible, else a shorter routine."""
    rank = profile.level.rank
    if rank > 0:
        level = LEVEL_ORDER[rank - 1]
        return _changed(profile, {"level": level}, f"Level lowered to {level.value}.")
    if profile.minutes > MINIMUM_MINUTES:
        minutes = max(MINIMUM_MINUTES, profile.minutes - MINUTES_STEP)
        return _changed(profile, {"minutes": minutes}, f"Routine shortened to {minutes} minutes.")
    return _changed(
        profile,
        {},
        "Already the gentlest, shortest routine; if it still does not agree with you, contact "
        "your doctor.",
    )


def _changed(profile: Profile, update: dict[str, object], description: str) -> ProfileChange:
    return ProfileChange(profile.model_copy(update={**update, "seed": None}), description)
