"""The generated routine as the API returns and stores it (`model_dump(mode="json")`)."""

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from app.domain.exercise import DosageOut
from app.domain.routines.red_flags import RedFlag, Urgency
from app.domain.routines.rules import RuleId
from app.domain.schema_config import ALWAYS_PRESENT
from app.domain.vocabulary import Category, Level, Position, SpinalMotion, TargetArea

EXCLUDED_SHOWN = 12
"""A routine lists at most this many of the exercises it leaves out (the nearest ones)."""

POOL_LIMIT = 240
"""Up to this many eligible exercises, the selection considers every one; up to this many
exercises in the catalogue, the nearest exclusions are found among every one."""


class Outcome(StrEnum):
    routine = "routine"
    refer = "refer"


class BlockName(StrEnum):
    """The blocks of a routine, in the order they are done."""

    warm_up = "warm_up"
    mobility = "mobility"
    strength = "strength"
    aerobic = "aerobic"
    cool_down = "cool_down"

    @property
    def rank(self) -> int:
        return list(BlockName).index(self)


BLOCK_TITLES: dict[BlockName, str] = {
    BlockName.warm_up: "Warm-up",
    BlockName.mobility: "Mobility and stretches",
    BlockName.strength: "Strength and stabilisation",
    BlockName.aerobic: "Low-impact aerobic",
    BlockName.cool_down: "Cool-down",
}


class ExclusionCode(StrEnum):
    """Why an exercise is not in the routine. `eligibility.py` holds the rule behind each code."""

    flag = "flag"
    level = "level"
    equipment = "equipment"
    position = "position"
    helper = "helper"
    impact = "impact"
    time = "time"
    not_requested = "not_requested"
    """An aerobic activity when the profile asks for none."""
    alternative_chosen = "alternative_chosen"
    """Another aerobic activity was chosen: a routine holds one."""
    not_published = "not_published"
    routine_limit = "routine_limit"
    """It suits the person, but a limit on the whole routine keeps it out (two variants of the
    stretch already in, nerve-tension limits with leg symptoms, or a second trip to the floor)."""


class SelectionCode(StrEnum):
    """Why an exercise is in the routine, or how its dosage was set."""

    indicated_direction = "indicated_direction"
    target_area = "target_area"
    balance = "balance"
    cool_down = "cool_down"
    fill = "fill"
    aerobic_scaled = "aerobic_scaled"
    sets_raised = "sets_raised"
    dosage_completed = "dosage_completed"
    hold_range = "hold_range"
    on_bed = "on_bed"
    leg_symptoms = "leg_symptoms"
    standing_support = "standing_support"
    clinician_chosen = "clinician_chosen"
    """In a program a clinician built: their reason for an override, or a finding kept."""


class Frozen(BaseModel):
    """A part of a routine, written whole (see ALWAYS_PRESENT)."""

    model_config = ConfigDict(frozen=True, **ALWAYS_PRESENT)


class ItemReason(Frozen):
    code: SelectionCode
    rule: RuleId
    """The rule behind it, with its basis, in GET /v1/routine-rules."""
    detail: str


class ExclusionReason(Frozen):
    code: ExclusionCode
    rule: RuleId
    """The rule behind it, with its basis, in GET /v1/routine-rules."""
    detail: str


class ExerciseSnapshot(Frozen):
    """The exercise as it was in the catalogue when the routine was generated."""

    slug: str
    version: int
    name: str
    summary: str
    steps: list[str]
    position: Position
    spinal_motion: SpinalMotion
    category: Category
    level: Level
    target_areas: list[TargetArea]
    dosage: DosageOut
    """The cited dosage the prescription starts from; `dosage.source` is its source id."""
    cautions: list[str]


class RoutineItem(Frozen):
    exercise: ExerciseSnapshot
    sets: int
    reps: int | None
    """Repetitions per set (per side when per_side); None for a timed aerobic activity."""
    hold_seconds: int | None
    per_side: bool
    rest_seconds: int
    """Rest between sets."""
    duration_minutes: int | None
    """Only for aerobic activities: how long to keep going."""
    estimated_seconds: int
    reasons: list[ItemReason]


class RoutineBlock(Frozen):
    name: BlockName
    title: str
    items: list[RoutineItem]


class Exclusion(Frozen):
    slug: str
    name: str
    reasons: list[ExclusionReason]


class RuleCount(Frozen):
    rule: RuleId
    """An eligibility rule, in GET /v1/routine-rules."""
    code: ExclusionCode
    count: int
    """How many exercises of the catalogue break it for this person."""


class ExclusionSummary(Frozen):
    """Every exercise left out, counted: the routine lists only the nearest few (`excluded`)."""

    total: int = Field(description="Exercises of the catalogue not in the routine.")
    by_rule: list[RuleCount] = Field(
        description="For each eligibility rule broken, how many exercises break it, in the "
        "order of GET /v1/routine-rules; an exercise breaking several counts under each."
    )
    suited: int = Field(
        description="Exercises that suit the person but are not in the routine: another aerobic "
        "activity was chosen, the time ran out, or a limit on the whole routine kept them out. "
        "Those listed in `excluded` name the rule."
    )


NOTHING_EXCLUDED = ExclusionSummary(total=0, by_rule=[], suited=0)
"""The summary of a routine that was not chosen from the catalogue (a referral, a program)."""


class Frequency(Frozen):
    routine: str
    aerobic: str | None
    sources: list[str]
    times_per_day: int
    """How often to do the session (the exercises; aerobic work has its own frequency): 3 for
    a session of at most 15 minutes while in pain, else 1."""
    aerobic_times_per_week: int | None
    """At least this many aerobic sessions a week (source 002: 3-4), never several a day."""
    aerobic_minutes: int | None
    """Each aerobic session lasts at least this long (source 002: 30 minutes)."""
    rules: list[RuleId]
    """The frequency rules applied, in GET /v1/routine-rules."""


class SourceCitation(Frozen):
    source: str
    title: str


class Referral(Frozen):
    """Why to seek care and how soon. With outcome `refer` it replaces the routine; with outcome
    `routine` a clinician has cleared the person, and the advice stays beside the routine."""

    urgency: Urgency
    advice: str
    red_flags: list[RedFlag]
    cleared_by_clinician: bool = False


EXCLUDED_DESCRIPTION = (
    "The exercises nearest to being in the routine, each with every reason it is left out: "
    "first those covering more of the target areas asked for, then those kept out by fewer "
    "rules (an exercise that suits the person but did not fit comes before one they may not "
    "do), then in slug order. At most {shown}, whatever the size of the catalogue. In a "
    "catalogue of more than {pool} exercises they are the nearest among a bounded set of "
    "candidates (the suitable exercises the selection drew from, and the first few of each kind "
    "ruled out), so making a routine costs the same at any size. `excluded_summary` counts all "
    "of them, and GET /v1/routines/{{id}}/excluded pages through every one."
)


class RoutinePlan(Frozen):
    outcome: Outcome
    blocks: list[RoutineBlock]
    excluded: list[Exclusion] = Field(
        description=EXCLUDED_DESCRIPTION.format(shown=EXCLUDED_SHOWN, pool=POOL_LIMIT)
    )
    excluded_summary: ExclusionSummary
    estimated_seconds: int
    estimated_minutes: int
    """estimated_seconds rounded up to whole minutes; never above the minutes asked."""
    frequency: Frequency | None
    safety_notes: list[str]
    citations: list[SourceCitation]
    referral: Referral | None
    explanation: str | None
    fill_suggestions: list[str]
    """For a routine under 80% of the session: what would fill it (aerobic work the person has
    the equipment for, a bed, equipment, a higher level)."""
    session_minutes: int
    """The minutes the routine was built for: the minutes asked, at most 15 in the acute
    phase (a design choice, see `explanation`)."""
    seed: int
    catalogue_revision: int

    @property
    def items(self) -> list[RoutineItem]:
        return [item for block in self.blocks for item in block.items]
