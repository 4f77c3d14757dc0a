"""The person a routine is generated for: the request body of POST /v1/routines.

Defaults are the cautious choice: an unknown sensitivity keeps both end ranges out, beginner level,
no equipment, no helper, and the acute phase (someone asking for back-pain exercises is most likely
in pain; the acute frequency is source 000's "three times a day while in pain").
"""

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from app.domain.routines.red_flags import RedFlagId
from app.domain.strict import JsonBool, JsonInt, NumberOnly
from app.domain.vocabulary import Equipment, Level, TargetArea

MINIMUM_MINUTES = 5
MAXIMUM_MINUTES = 90
DEFAULT_MINUTES = 20
MAXIMUM_SEED = 2**31 - 1
DEFAULT_SEED = 0
"""The seed of a profile that sends none: its standard routine."""


class Sensitivity(StrEnum):
    """Which way of bending makes the person's back pain worse."""

    flexion_sensitive = "flexion_sensitive"
    extension_sensitive = "extension_sensitive"
    none = "none"
    unknown = "unknown"


class Phase(StrEnum):
    """Where the person is in their recovery; it sets how often to do the routine."""

    acute = "acute"
    recovering = "recovering"
    maintenance = "maintenance"


PROFILE_EXAMPLE: JsonDict = {
    "sensitivity": "flexion_sensitive",
    "level": "beginner",
    "target_areas": ["lower_back", "hamstrings"],
    "available_equipment": ["mat"],
    "can_get_on_floor": True,
    "helper_available": False,
    "leg_symptoms": False,
    "minutes": 20,
    "include_aerobic": False,
    "phase": "acute",
    "red_flags": [],
    "cleared_by_clinician": False,
    "seed": 42,
}


class Profile(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, json_schema_extra={"examples": [PROFILE_EXAMPLE]}
    )

    sensitivity: Sensitivity = Field(
        default=Sensitivity.unknown,
        description=(
            "flexion_sensitive: pain worse bending forward; extension_sensitive: pain worse "
            "bending backwards; none: neither; unknown (default): neither flexion nor extension "
            "exercises are offered."
        ),
    )
    level: Level = Field(
        default=Level.beginner, description="Highest exercise level to offer (default beginner)."
    )
    target_areas: list[TargetArea] = Field(
        default_factory=list,
        max_length=len(TargetArea),
        description="Body areas to cover first, in order of preference.",
    )
    available_equipment: list[Equipment] = Field(
        default_factory=list,
        max_length=len(Equipment),
        description=(
            "Equipment the person has. Exercises needing anything else are left out; a bed "
            "counts here too when the person cannot get down to the floor."
        ),
    )
    can_get_on_floor: JsonBool = Field(
        default=True,
        description=(
            "False: only exercises done standing, seated or in water, or ones that can be done "
            "on a bed (when a bed is listed in available_equipment)."
        ),
    )
    helper_available: JsonBool = Field(
        default=False, description="True if someone can help with assisted exercises."
    )
    leg_symptoms: JsonBool = Field(
        default=False,
        description="Pain radiating into a leg (buttock, thigh or below the knee).",
    )
    minutes: JsonInt = Field(
        default=DEFAULT_MINUTES,
        ge=MINIMUM_MINUTES,
        le=MAXIMUM_MINUTES,
        description=(
            "Time available for one session; the routine never takes longer. In the acute phase "
            "a session is kept to 15 minutes at most (done three times a day)."
        ),
    )
    include_aerobic: JsonBool = Field(
        default=False,
        description="Add one low-impact aerobic activity (also implied by target whole_body).",
    )
    phase: Phase = Field(
        default=Phase.acute,
        description=(
            "acute (default): in pain, a short session (at most 15 minutes) three times a day; "
            "recovering: pain easing, three times a day for a session of 15 minutes or less, "
            "else once a day; maintenance: pain gone, once a day to prevent recurrence."
        ),
    )
    red_flags: list[RedFlagId] = Field(
        default_factory=list,
        max_length=len(RedFlagId),
        description=(
            "Ids of red-flag screening questions answered yes (GET /v1/red-flags). Any one "
            'gives a referral instead of a routine, unless every one reported is a "see '
            'someone soon" flag and cleared_by_clinician is true.'
        ),
    )
    cleared_by_clinician: JsonBool = Field(
        default=False,
        description=(
            'True when a clinician has checked the "see someone soon" red flags reported '
            "(urgency soon) and cleared the person to exercise: the routine is given, with the "
            "referral advice beside it. Emergency and same-day red flags refer whatever this "
            "says."
        ),
    )
    seed: Annotated[int, Field(ge=0, le=MAXIMUM_SEED), NumberOnly] | None = Field(
        default=None,
        description=(
            "The same profile, catalogue and seed always give the same routine. Left out, it is "
            f"{DEFAULT_SEED}: the standard routine for the profile (the routine returns the seed "
            "used). Send another seed for a variation."
        ),
    )

    @property
    def wants_aerobic(self) -> bool:
        """Aerobic work is asked for explicitly or by targeting the whole body."""
        return self.include_aerobic or TargetArea.whole_body in self.target_areas
