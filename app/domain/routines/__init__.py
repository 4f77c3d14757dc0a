"""The routine engine: pure functions from a catalogue and a person's profile to a routine, and
from feedback on a session to the next profile.

This package re-exports the engine's vocabulary (its models, profile, feedback and red flags), never
the engine itself: import `generate_routine` from `app.domain.routines.engine`. Every module
re-exported here stays clear of `app.domain.catalogue`, so the catalogue (or anything it imports)
may import from this package without a circular import (`tests/test_imports.py` checks each module
imports on its own).
"""

from app.domain.routines.feedback import (
    Difficulty,
    Feedback,
    FeedbackOutcome,
    LegSymptom,
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
from app.domain.routines.rule_ids import RuleId

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
    "Frequency",
    "ItemReason",
    "LegSymptom",
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
    "RuleId",
    "SelectionCode",
    "Sensitivity",
    "Session",
    "SourceCitation",
    "Urgency",
    "recommend",
]
