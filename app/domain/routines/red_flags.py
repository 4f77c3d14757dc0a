"""Red flags: symptoms that call for medical care instead of an exercise routine.

Each flag is a screening question a frontend asks before offering a routine. Any "yes" turns the
routine into a referral (see `engine.generate_routine`), except that a "see someone soon" flag
gives the routine, with its referral advice beside it, once the profile says a clinician has
cleared the person (`cleared_by_clinician`). Emergency and same-day flags always refer.

The first four come from source 000 (Back Injury Rehabilitation); the others are additions found
in widely used back-pain screening lists, which the sources do not mention.
"""

from collections.abc import Iterable
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from app.domain.schema_config import ALWAYS_PRESENT

SOURCE_BACK_INJURY_REHABILITATION = "back-injury-rehabilitation"
SCREENING_LISTS = "widely used screening lists"


class RedFlagId(StrEnum):
    severe_abdominal_pain = "severe_abdominal_pain"
    fever = "fever"
    bladder_or_bowel_control_loss = "bladder_or_bowel_control_loss"
    strain_pain_beyond_two_weeks = "strain_pain_beyond_two_weeks"
    saddle_numbness = "saddle_numbness"
    progressive_leg_weakness = "progressive_leg_weakness"
    major_trauma = "major_trauma"
    history_of_cancer = "history_of_cancer"
    unexplained_weight_loss = "unexplained_weight_loss"


class Urgency(StrEnum):
    """How soon to seek care, most urgent first."""

    emergency = "emergency"
    same_day = "same_day"
    soon = "soon"

    @property
    def rank(self) -> int:
        """0 is the most urgent."""
        return list(Urgency).index(self)


class RedFlag(BaseModel):
    model_config = ConfigDict(frozen=True, **ALWAYS_PRESENT)

    id: RedFlagId
    question: str
    urgency: Urgency
    advice: str
    origin: str
    """A source id from the catalogue, or SCREENING_LISTS for the clinical additions."""
    design_choice: str | None = None
    """What in the question goes beyond its origin, and why; None when nothing does."""

    @property
    def clinician_can_clear(self) -> bool:
        """A "see someone soon" flag: a clinician who has checked it may clear the person to
        exercise. Emergency and same-day flags always refer."""
        return self.urgency is Urgency.soon


EMERGENCY_ADVICE = (
    "Seek medical care immediately: go to an emergency department or call your local emergency "
    "number. Do not start the exercises."
)

RED_FLAGS: tuple[RedFlag, ...] = (
    RedFlag(
        id=RedFlagId.severe_abdominal_pain,
        question="Do you have severe pain in your abdomen (belly) as well as your back pain?",
        urgency=Urgency.emergency,
        advice=EMERGENCY_ADVICE,
        origin=SOURCE_BACK_INJURY_REHABILITATION,
    ),
    RedFlag(
        id=RedFlagId.fever,
        question="Do you have a fever above 38 °C (100.4 °F) along with your back pain?",
        urgency=Urgency.emergency,
        advice=EMERGENCY_ADVICE,
        origin=SOURCE_BACK_INJURY_REHABILITATION,
    ),
    RedFlag(
        id=RedFlagId.bladder_or_bowel_control_loss,
        question=(
            "Have you lost control of your bladder or bowels, or found it hard to start or stop "
            "passing urine, since your back pain began?"
        ),
        urgency=Urgency.emergency,
        advice=EMERGENCY_ADVICE,
        origin=SOURCE_BACK_INJURY_REHABILITATION,
        design_choice=(
            "Source 000 names loss of bladder or bowel control. Asking too about difficulty "
            "starting or stopping urine (urinary retention) is a design choice, taken from "
            "widely used screening lists: it can be an early sign of the same nerve compression."
        ),
    ),
    RedFlag(
        id=RedFlagId.strain_pain_beyond_two_weeks,
        question=(
            "Has pain from a strain or pulled muscle in your back lasted more than one to two "
            "weeks?"
        ),
        urgency=Urgency.soon,
        advice=(
            "Make an appointment with a physician to have the pain checked before starting an "
            "exercise routine."
        ),
        origin=SOURCE_BACK_INJURY_REHABILITATION,
    ),
    RedFlag(
        id=RedFlagId.saddle_numbness,
        question=(
            "Do you have numbness or tingling around your genitals, buttocks or inner thighs "
            "(the area that would touch a saddle)?"
        ),
        urgency=Urgency.emergency,
        advice=EMERGENCY_ADVICE,
        origin=SCREENING_LISTS,
    ),
    RedFlag(
        id=RedFlagId.progressive_leg_weakness,
        question=(
            "Is one or both of your legs getting weaker, or are you tripping or dropping a foot?"
        ),
        urgency=Urgency.emergency,
        advice=EMERGENCY_ADVICE,
        origin=SCREENING_LISTS,
    ),
    RedFlag(
        id=RedFlagId.major_trauma,
        question=(
            "Did your back pain start after a major injury, such as a fall from a height or a "
            "road accident?"
        ),
        urgency=Urgency.same_day,
        advice=(
            "See a doctor today, at urgent care or an emergency department, to rule out a "
            "fracture before doing any exercise."
        ),
        origin=SCREENING_LISTS,
    ),
    RedFlag(
        id=RedFlagId.history_of_cancer,
        question=(
            "Do you have a history of cancer (now or in the past), and is this back pain new?"
        ),
        urgency=Urgency.soon,
        advice=(
            "Book an appointment with your doctor in the next few days and mention your history "
            "of cancer; start the exercises only once they agree."
        ),
        origin=SCREENING_LISTS,
    ),
    RedFlag(
        id=RedFlagId.unexplained_weight_loss,
        question="Have you lost weight recently without trying?",
        urgency=Urgency.soon,
        advice=(
            "Book an appointment with your doctor in the next few days to find the cause; start "
            "the exercises only once they agree."
        ),
        origin=SCREENING_LISTS,
    ),
)


def matched_red_flags(ids: Iterable[RedFlagId]) -> list[RedFlag]:
    """The red flags reported, most urgent first, each once, in a stable order."""
    reported = set(ids)
    matched = [flag for flag in RED_FLAGS if flag.id in reported]
    return sorted(matched, key=lambda flag: flag.urgency.rank)
