"""After a session: advance, repeat, regress, or stop and consult, and the next profile.

Rules are checked in order and the first that applies decides; each has a stable id a client can
store and a sentence it can show. The feedback given on the earlier routines of the chain
(`Session`) counts as well as this session's:

- moving up needs about a week of sessions without pain rising, as GET /v1/progression-levels
  tells people;
- pain rising in two sessions in a row, or by 3 points or more added up over the chain, stops it;
- pain that has not fallen after two weeks of sessions brings source 000's advice to make an
  appointment;
- regress and repeat never lengthen a session; nothing, leaving the acute phase included, makes
  it longer than one advance step (`MINUTES_STEP`); the acute phase never moves up to advanced.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from app.domain.routines.profile import MAXIMUM_MINUTES, MINIMUM_MINUTES, Phase, Profile
from app.domain.routines.red_flags import EMERGENCY_ADVICE, Urgency
from app.domain.routines.rule_ids import RuleId
from app.domain.routines.session import SHORT_SESSION_MINUTES, session_minutes
from app.domain.strict import JsonBool, JsonInt
from app.domain.vocabulary import LEVEL_ORDER, Level

PAIN_RISE_TO_STOP = 3
"""A rise this big stops the routine; a smaller rise regresses it (a design choice: the sources
say to stop whenever pain worsens)."""
PAIN_TOO_HIGH_TO_ADVANCE = 5
"""Pain after a session at or above this keeps the level: source 002 says to get pain under
control first (the threshold is a design choice)."""
MOVE_UP_MINIMUM_SESSIONS = 4
MOVE_UP_MINIMUM_DAYS = 6
"""Moving up needs this many good sessions in a row, the first this many days ago or more:
"about a week" of sessions (a design choice: the sources give no rule for moving up)."""
MINUTES_STEP = 5
"""How much longer an advance makes a session, and the most any next routine adds."""
CHAIN_RISE_TO_STOP = 3
"""Pain rises during sessions that add up to this over a chain stop it, like one rise this big
(a design choice: the sources say to stop whenever pain worsens)."""
PAIN_NOT_EASING_DAYS = 14
"""Pain no lower than at the chain's start this many days after its first session: source 000's
"If it lasts longer than a week or two, make an appointment" (two weeks, the longer reading)."""
HIGHEST_ACUTE_LEVEL = Level.intermediate
"""The acute phase moves up no further: someone still in pain after weeks of sessions is not
moved on to the advanced program (a design choice)."""


class Difficulty(StrEnum):
    easy = "easy"
    right = "right"
    hard = "hard"


class Recommendation(StrEnum):
    advance = "advance"
    repeat = "repeat"
    regress = "regress"
    stop_and_consult = "stop_and_consult"


class LegSymptom(StrEnum):
    """A symptom in a leg that feedback can name."""

    pain = "pain"
    numbness = "numbness"
    tingling = "tingling"
    weakness = "weakness"


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

    pain_before: JsonInt = Field(
        ge=0, le=10, description="Pain before the session, 0 (none) to 10."
    )
    pain_after: JsonInt = Field(ge=0, le=10, description="Pain after the session, 0 (none) to 10.")
    completed: JsonBool = Field(description="Whether the whole routine was done.")
    difficulty: Difficulty = Field(description="How the routine felt: easy, right or hard.")
    new_leg_symptoms: JsonBool = Field(
        default=False,
        description="New pain, numbness, tingling or weakness in a leg since the session.",
    )
    leg_symptoms_worse: JsonBool = Field(
        default=False,
        description=(
            "Pain, numbness, tingling or weakness already felt in a leg got worse or spread "
            "further down the leg since the session."
        ),
    )
    symptoms: list[LegSymptom] = Field(
        default_factory=list,
        max_length=len(LegSymptom),
        description=(
            "Which symptoms in a leg are new or worse since the session (with new_leg_symptoms "
            "or leg_symptoms_worse; naming one counts as reporting it). Weakness is answered as "
            "the red flag progressive_leg_weakness is: seek medical care immediately."
        ),
    )
    saddle_numbness: JsonBool = Field(
        default=False,
        description=(
            "Numbness or tingling around the genitals, buttocks or inner thighs (the area that "
            "would touch a saddle) since the session: answered as the red flag saddle_numbness "
            "is, seek medical care immediately."
        ),
    )

    @property
    def pain_change(self) -> int:
        return self.pain_after - self.pain_before

    @property
    def pain_rose(self) -> bool:
        return self.pain_change > 0

    @property
    def any_leg_symptoms(self) -> bool:
        """New or worse leg symptoms of any kind reported, or saddle numbness."""
        return (
            self.new_leg_symptoms
            or self.leg_symptoms_worse
            or bool(self.symptoms)
            or self.saddle_numbness
        )


SEEK_CARE_NOW = EMERGENCY_ADVICE.removesuffix(" Do not start the exercises.")
"""The red-flag list's emergency advice, less its words for before a routine."""

STOP_RULE_WORDS = (
    "The sources say to stop any exercise that worsens your pain or causes new pain, and to "
    "contact your doctor."
)

RULE_TEXTS: dict[RuleId, str] = {
    RuleId.saddle_numbness: (
        "Numbness or tingling around the genitals, buttocks or inner thighs: stop the routine. "
        + SEEK_CARE_NOW
    ),
    RuleId.leg_weakness: (
        "Weakness in a leg that is new or getting worse: stop the routine. " + SEEK_CARE_NOW
    ),
    RuleId.new_leg_symptoms: (
        "New symptoms in a leg after exercise: stop the routine and contact your doctor."
    ),
    RuleId.leg_symptoms_worse: (
        "Symptoms in your leg got worse or spread after exercise: stop the routine and contact "
        "your doctor."
    ),
    RuleId.new_pain: (
        "You had no pain before the session and pain after it: that is new pain. Stop the "
        "routine and contact your doctor."
    ),
    RuleId.pain_rose_sharply: (
        f"Pain rose by {PAIN_RISE_TO_STOP} points or more: stop the routine and contact your "
        "doctor."
    ),
    RuleId.pain_rose_again: (
        "Your pain rose during this session and during the one before: stop the routine and "
        "contact your doctor."
    ),
    RuleId.pain_rose_over_chain: (
        f"Your pain has risen during sessions by {CHAIN_RISE_TO_STOP} points or more in all: "
        "stop the routine and contact your doctor."
    ),
    RuleId.pain_rose: (
        f"Pain rose by 1 or 2 points: the next routine is gentler. {STOP_RULE_WORDS} If your "
        "pain rises again, stop and contact your doctor. (Easing off rather than stopping at a "
        "rise of 1 or 2 points is a design choice of this API.)"
    ),
    RuleId.too_hard: "The routine felt hard: make the next one gentler.",
    RuleId.not_completed: (
        "The routine was not finished but felt manageable: repeat it before moving on."
    ),
    RuleId.pain_too_high_to_advance: (
        f"The routine felt easy, but your pain after it was {PAIN_TOO_HIGH_TO_ADVANCE} or more: "
        "get your pain under control before moving on, so repeat it."
    ),
    RuleId.move_up_after_a_week: (
        "The routine felt easy and your pain did not rise: repeat it. Move up only after about a "
        f"week of such sessions ({MOVE_UP_MINIMUM_SESSIONS} or more, over "
        f"{MOVE_UP_MINIMUM_DAYS} days or more), not after one (a design choice of this API)."
    ),
    RuleId.easy_without_pain: (
        "About a week of complete sessions without your pain rising, and this one felt easy: "
        "move on to a harder one."
    ),
    RuleId.about_right: "The routine felt about right: repeat it.",
}

RULE_RECOMMENDATIONS: dict[RuleId, Recommendation] = {
    RuleId.saddle_numbness: Recommendation.stop_and_consult,
    RuleId.leg_weakness: Recommendation.stop_and_consult,
    RuleId.new_leg_symptoms: Recommendation.stop_and_consult,
    RuleId.leg_symptoms_worse: Recommendation.stop_and_consult,
    RuleId.new_pain: Recommendation.stop_and_consult,
    RuleId.pain_rose_sharply: Recommendation.stop_and_consult,
    RuleId.pain_rose_again: Recommendation.stop_and_consult,
    RuleId.pain_rose_over_chain: Recommendation.stop_and_consult,
    RuleId.pain_rose: Recommendation.regress,
    RuleId.too_hard: Recommendation.regress,
    RuleId.not_completed: Recommendation.repeat,
    RuleId.pain_too_high_to_advance: Recommendation.repeat,
    RuleId.move_up_after_a_week: Recommendation.repeat,
    RuleId.easy_without_pain: Recommendation.advance,
    RuleId.about_right: Recommendation.repeat,
}

PHYSICAL_THERAPIST = (
    "If you have back pain or sciatica, working with a physical therapist may help: they can "
    "help you progress properly through the exercises and tell you what to avoid."
)
"""Source 000's suggestion, given with every recommendation but advance."""

RULE_URGENCY: dict[RuleId, Urgency] = {
    RuleId.saddle_numbness: Urgency.emergency,
    RuleId.leg_weakness: Urgency.emergency,
}
"""Feedback answered as the red-flag list answers the same symptom at screening."""

PAIN_NOT_EASING = (
    "Your pain is no lower than when you started these routines, two weeks or more ago: make an "
    "appointment with your primary care physician."
)
"""Source 000: "If it lasts longer than a week or two, make an appointment with your primary
care physician." Given with any recommendation."""

PAIN_GONE = (
    "Your pain was 0 before and after the session: the next routine is for the recovering "
    "phase. Once the pain has gone, once a day is enough to help keep it from coming back."
)


@dataclass(frozen=True)
class Session:
    """Feedback already given on an earlier routine of the chain."""

    feedback: Feedback
    recommendation: Recommendation
    reported_at: datetime


class FeedbackOutcome(BaseModel):
    model_config = ConfigDict(frozen=True)

    recommendation: Recommendation
    rule_id: RuleId
    rule: str
    adjustment: str | None
    """What changed in next_profile, in words; None when nothing did."""
    advice: str | None
    """Source 000's advice to make an appointment when pain has not fallen over two weeks of
    sessions, and its suggestion of a physical therapist unless the recommendation is advance."""
    urgency: Urgency | None
    """How soon to seek care, for a symptom the red-flag list treats as an emergency."""
    next_profile: Profile | None
    """None for stop_and_consult. Its seed is cleared so the next routine may vary."""


def is_good_session(feedback: Feedback) -> bool:
    """Done in full, no pain rise, pain after below the advance limit, no leg symptoms, and
    not too hard: a session that counts towards moving up."""
    return (
        feedback.completed
        and not feedback.pain_rose
        and feedback.pain_after < PAIN_TOO_HIGH_TO_ADVANCE
        and not feedback.any_leg_symptoms
        and feedback.difficulty is not Difficulty.hard
    )


def chain_rise(feedback: Feedback, history: Sequence[Session]) -> int:
    """The pain rises during sessions, added up over the chain, this session's included."""
    return sum(max(0, f.pain_change) for f in [*(s.feedback for s in history), feedback])


def pain_not_easing(feedback: Feedback, history: Sequence[Session], now: datetime | None) -> bool:
    """Two weeks or more since the chain's first session, and pain after this one still no lower
    than before that first one (and not 0)."""
    if not history or now is None:
        return False
    first = history[0]
    return (
        now - first.reported_at >= timedelta(days=PAIN_NOT_EASING_DAYS)
        and feedback.pain_after > 0
        and feedback.pain_after >= first.feedback.pain_before
    )


def good_run_start(history: Sequence[Session], now: datetime) -> tuple[int, datetime]:
    """The good sessions in a row at this level ending now (this one included), and when the
    first of them was reported. The run stops at a session that was not good or that moved
    the level (advance or regress)."""
    count, first = 1, now
    for session in reversed(history):
        if session.recommendation is not Recommendation.repeat:
            break
        if not is_good_session(session.feedback):
            break
        count, first = count + 1, session.reported_at
    return count, first


def ready_to_move_up(history: Sequence[Session], now: datetime) -> bool:
    count, first = good_run_start(history, now)
    return count >= MOVE_UP_MINIMUM_SESSIONS and now - first >= timedelta(days=MOVE_UP_MINIMUM_DAYS)


def applicable_rule(
    feedback: Feedback, history: Sequence[Session] = (), now: datetime | None = None
) -> RuleId:
    """The first rule that applies. `history` is the feedback on the earlier routines of the
    chain, oldest first; `now` is when this feedback is given (moving up needs both)."""
    if feedback.saddle_numbness:
        return RuleId.saddle_numbness
    if LegSymptom.weakness in feedback.symptoms:
        return RuleId.leg_weakness
    if feedback.new_leg_symptoms:
        return RuleId.new_leg_symptoms
    if feedback.leg_symptoms_worse:
        return RuleId.leg_symptoms_worse
    if feedback.symptoms:
        return RuleId.new_leg_symptoms
    if feedback.pain_before == 0 and feedback.pain_after > 0:
        return RuleId.new_pain
    if feedback.pain_change >= PAIN_RISE_TO_STOP:
        return RuleId.pain_rose_sharply
    if feedback.pain_rose and history and history[-1].feedback.pain_rose:
        return RuleId.pain_rose_again
    if chain_rise(feedback, history) >= CHAIN_RISE_TO_STOP:
        return RuleId.pain_rose_over_chain
    if feedback.pain_rose:
        return RuleId.pain_rose
    if feedback.difficulty is Difficulty.hard:
        return RuleId.too_hard
    if not feedback.completed:
        return RuleId.not_completed
    if feedback.difficulty is not Difficulty.easy:
        return RuleId.about_right
    if feedback.pain_after >= PAIN_TOO_HIGH_TO_ADVANCE:
        return RuleId.pain_too_high_to_advance
    if now is None or not ready_to_move_up(history, now):
        return RuleId.move_up_after_a_week
    return RuleId.easy_without_pain


def recommend(
    profile: Profile,
    feedback: Feedback,
    history: Sequence[Session] = (),
    now: datetime | None = None,
) -> FeedbackOutcome:
    rule = applicable_rule(feedback, history, now)
    recommendation = RULE_RECOMMENDATIONS[rule]
    change = next_profile_change(profile, recommendation)
    if change is not None and pain_gone(profile, feedback):
        change = out_of_acute(profile, change, recommendation)
    if rule is RuleId.move_up_after_a_week and change is not None and now is not None:
        count, first = good_run_start(history, now)
        days = (now - first).days
        progress = (
            f"Good sessions in a row so far: {count}, over {days} day{'s' if days != 1 else ''}."
        )
        change = ProfileChange(
            change.profile, " ".join(filter(None, [progress, change.description]))
        )
    advice = [
        PAIN_NOT_EASING if pain_not_easing(feedback, history, now) else None,
        None if recommendation is Recommendation.advance else PHYSICAL_THERAPIST,
    ]
    return FeedbackOutcome(
        recommendation=recommendation,
        rule_id=rule,
        rule=RULE_TEXTS[rule],
        adjustment=None if change is None else change.description,
        advice=" ".join(filter(None, advice)) or None,
        urgency=RULE_URGENCY.get(rule),
        next_profile=None if change is None else change.profile,
    )


def pain_gone(profile: Profile, feedback: Feedback) -> bool:
    """No pain before or after a session in the acute phase: the phase moves on (source 000:
    once a day once the pain has gone)."""
    return profile.phase is Phase.acute and feedback.pain_before == 0 and feedback.pain_after == 0


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


def longest_session(profile: Profile) -> int:
    """The acute phase keeps a session to `SHORT_SESSION_MINUTES`; see `session.py`."""
    return SHORT_SESSION_MINUTES if profile.phase is Phase.acute else MAXIMUM_MINUTES


def highest_level(profile: Profile) -> Level:
    """The acute phase stops at `HIGHEST_ACUTE_LEVEL`."""
    return HIGHEST_ACUTE_LEVEL if profile.phase is Phase.acute else LEVEL_ORDER[-1]


def advanced(profile: Profile) -> ProfileChange:
    """Level up when possible, else a longer session (more sets and exercises), up to the
    longest session of the phase."""
    rank, highest = profile.level.rank, highest_level(profile)
    if rank < highest.rank:
        level = LEVEL_ORDER[rank + 1]
        return _changed(profile, {"level": level}, f"Level raised to {level.value}.")
    current, longest = session_minutes(profile), longest_session(profile)
    if current < longest:
        minutes = min(longest, current + MINUTES_STEP)
        return _changed(profile, {"minutes": minutes}, f"Routine lengthened to {minutes} minutes.")
    top = (
        f"the highest level while in pain ({highest.value})"
        if highest is not LEVEL_ORDER[-1]
        else "the top level"
    )
    return _changed(
        profile,
        {},
        f"Already {top} and the longest session ({longest} minutes in this phase): keep it up.",
    )


def regressed(profile: Profile) -> ProfileChange:
    """Level down when possible, else a shorter session than the one done."""
    rank = profile.level.rank
    if rank > 0:
        level = LEVEL_ORDER[rank - 1]
        return _changed(profile, {"level": level}, f"Level lowered to {level.value}.")
    current = session_minutes(profile)
    if current > MINIMUM_MINUTES:
        minutes = max(MINIMUM_MINUTES, current - MINUTES_STEP)
        return _changed(profile, {"minutes": minutes}, f"Routine shortened to {minutes} minutes.")
    return _changed(
        profile,
        {},
        "Already the gentlest, shortest routine; if it still does not agree with you, contact "
        "your doctor.",
    )


def _changed(profile: Profile, update: dict[str, object], description: str) -> ProfileChange:
    return ProfileChange(profile.model_copy(update={**update, "seed": None}), description)


def out_of_acute(
    profile: Profile, change: ProfileChange, recommendation: Recommendation
) -> ProfileChange:
    """The next profile in the recovering phase, its session no longer than the acute one after
    regress or repeat, and at most one advance step longer after advance: leaving the acute
    phase's short-session cap never jumps the volume."""
    longest = session_minutes(change.profile)
    if recommendation is Recommendation.advance:
        longest = max(longest, min(session_minutes(profile) + MINUTES_STEP, MAXIMUM_MINUTES))
    minutes = min(change.profile.minutes, longest)
    return ProfileChange(
        change.profile.model_copy(update={"phase": Phase.recovering, "minutes": minutes}),
        " ".join(filter(None, [change.description, PAIN_GONE])),
    )
