"""The routine engine: pure functions from a catalogue and a person's profile to a routine, and
from feedback on a session to the next profile."""

from app.domain.routines.engine import generate_routine
from app.domain.routines.feedback import (
    Difficulty,
    Feedback,
    FeedbackOutcome,
    FeedbackRule,
    Recommendation,
    Session,
    recommend,
)
from app.domain.routines.model import (
    BlockName,
    Exclusion,
    ExclusionCode,
    ExclusionReason,
    ExerciseSnapshot,
    Frequency,
    ItemReason,
    Outcome,
    Referral,
    RoutineBlock,
    RoutineItem,
    RoutinePlan,
    SelectionCode,
    SourceCitation,
)
from app.domain.routines.profile import Phase, Profile, Sensitivity
from app.domain.routines.red_flags import RED_FLAGS, RedFlag, RedFlagId, Urgency

__all__ = [
    "RED_FLAGS",
    "BlockName",
    "Difficulty",
    "Exclusion",
    "ExclusionCode",
    "ExclusionReason",
    "ExerciseSnapshot",
    "Feedback",
    "FeedbackOutcome",
    "FeedbackRule",
    "Frequency",
    "ItemReason",
    "Outcome",
    "Phase",
    "Profile",
    "Recommendation",
    "RedFlag",
    "RedFlagId",
    "Referral",
    "RoutineBlock",
    "RoutineItem",
    "RoutinePlan",
    "SelectionCode",
    "Sensitivity",
    "Session",
    "SourceCitation",
    "Urgency",
    "generate_routine",
    "recommend",
]
