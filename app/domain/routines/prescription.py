"""From a cited dosage to what the person does: sets, reps, hold, and how far sets may rise."""

from dataclasses import dataclass, field

from app.domain.catalogue import CatalogueEntry
from app.domain.exercise import Dosage, Exercise
from app.domain.exercise_facts import Dose
from app.domain.routines.model import BlockName, ItemReason, SelectionCode
from app.domain.routines.profile import Phase, Profile
from app.domain.routines.rules import RuleId
from app.domain.routines.timing import REST_BETWEEN_SETS_SECONDS, aerobic_seconds, exercise_seconds
from app.domain.vocabulary import Category, Level, Position

MAXIMUM_UNCITED_SETS = 2
"""Outside the acute phase, an exercise whose source gives no sets may be raised to this many
(a labelled design choice); a cited set count is never exceeded, and the acute phase never
raises sets at all (time goes to more exercises instead)."""

REPETITIONS_WHEN_UNSTATED = 5
"""When a source gives a hold but no count ("repeat, a little higher each time")."""

AEROBIC_MINUTES_WHEN_UNSTATED = 30
"""Source 002: at least 30 minutes."""


CitedDose = Dosage | Dose
"""A cited dosage: the model's, or the numbers of the one a snapshot's entry keeps."""


@dataclass
class Prescription:
    """One exercise while the routine is being built; it becomes a `RoutineItem`."""

    entry: CatalogueEntry
    dosage: CitedDose
    block: BlockName
    sets: int
    reps: int | None
    hold_seconds: int | None
    duration_minutes: int | None
    reasons: list[ItemReason] = field(default_factory=list)
    indicated: bool = False
    sets_may_rise: bool = False
    """False in the acute phase: sets stay at the cited count."""
    side: bool | None = None
    """Each side, or not, when a program says so; None keeps the cited dosage's."""
    rest: int = REST_BETWEEN_SETS_SECONDS
    """Rest between sets (a program may set its own)."""

    @property
    def exercise(self) -> Exercise:
        """The whole model (made from the stored document): for what the routine shows."""
        return self.entry.exercise

    @property
    def position(self) -> Position:
        return self.entry.position

    @property
    def per_side(self) -> bool:
        return self.dosage.per_side if self.side is None else self.side

    @property
    def is_aerobic(self) -> bool:
        return self.duration_minutes is not None

    @property
    def maximum_sets(self) -> int:
        return sets_limit(self.dosage, acute=not self.sets_may_rise).most

    @property
    def rest_seconds(self) -> int:
        return 0 if self.is_aerobic else self.rest

    @property
    def seconds(self) -> int:
        if self.duration_minutes is not None:
            return aerobic_seconds(self.duration_minutes)
        return exercise_seconds(
            sets=self.sets,
            reps=self.reps or 1,
            hold_seconds=self.hold_seconds or 0,
            per_side=self.per_side,
            rest_seconds=self.rest,
        )


@dataclass(frozen=True)
class DoseLimit:
    """The most of one part of a dose, and the rule that says so."""

    most: int
    rule: RuleId


def sets_limit(dosage: CitedDose, *, acute: bool) -> DoseLimit:
    """A cited set count is never exceeded; where none is cited, one set in the acute phase and
    at most `MAXIMUM_UNCITED_SETS` elsewhere."""
    if dosage.sets is not None:
        return DoseLimit(dosage.sets, RuleId.sets_cited)
    if acute:
        return DoseLimit(1, RuleId.no_extra_sets_acute)
    return DoseLimit(MAXIMUM_UNCITED_SETS, RuleId.sets_raised)


@dataclass(frozen=True)
class DoseLimits:
    """The most of each part of a dose that an exercise's cited dosages allow: what the engine
    never goes beyond, and what the rule checker warns above."""

    sets: DoseLimit
    repetitions: int
    hold_seconds: int
    minutes: int


def dose_limits(exercise: Exercise, phase: Phase) -> DoseLimits:
    """Over every cited dosage of the exercise (the engine prescribes from one of them)."""
    acute = phase is Phase.acute
    return DoseLimits(
        sets=max(
            (sets_limit(dosage, acute=acute) for dosage in exercise.dosages),
            key=lambda limit: limit.most,
        ),
        repetitions=max(repetitions(dosage)[0] for dosage in exercise.dosages),
        hold_seconds=max(hold_limit(dosage) for dosage in exercise.dosages),
        minutes=max(minutes_limit(dosage) for dosage in exercise.dosages),
    )


def hold_limit(dosage: Dosage) -> int:
    """The longest hold a dosage cites (the upper end of a range); 0 where it cites none."""
    return dosage.hold_seconds_max or dosage.hold_seconds or 0


def minutes_limit(dosage: CitedDose) -> int:
    return dosage.duration_minutes or AEROBIC_MINUTES_WHEN_UNSTATED


def choose_dosage(exercise: Exercise) -> Dosage:
    """The most complete cited dosage: one that states repetitions (or a duration), else the
    first listed."""
    for dosage in exercise.dosages:
        if dosage.reps is not None or dosage.duration_minutes is not None:
            return dosage
    return exercise.dosages[0]


def hold_for_level(dosage: CitedDose, level: Level) -> tuple[int | None, ItemReason | None]:
    """A hold range (5-10 s): beginners hold for its lower end, everyone else for its upper end."""
    if dosage.hold_seconds_max is None or level is Level.beginner:
        return dosage.hold_seconds, None
    reason = ItemReason(
        code=SelectionCode.hold_range,
        rule=RuleId.hold_range,
        detail=(
            f"The source gives a {dosage.hold_seconds}-{dosage.hold_seconds_max} second hold; "
            f"at {level.value} level you hold for the upper end."
        ),
    )
    return dosage.hold_seconds_max, reason


def repetitions(dosage: CitedDose) -> tuple[int, ItemReason | None]:
    if dosage.reps is not None:
        return dosage.reps, None
    if dosage.sets is not None:
        return 1, None
    reason = ItemReason(
        code=SelectionCode.dosage_completed,
        rule=RuleId.reps_default,
        detail=(
            f"The source gives no number of repetitions; {REPETITIONS_WHEN_UNSTATED} is this "
            "routine's default."
        ),
    )
    return REPETITIONS_WHEN_UNSTATED, reason


def prescribe(
    entry: CatalogueEntry, profile: Profile, block: BlockName, reasons: list[ItemReason]
) -> Prescription:
    """The exercise at its cited dosage (`choose_dosage`, kept by the entry), one set unless
    the source says more."""
    level = profile.level
    dosage = entry.dose
    if entry.category is Category.aerobic:
        minutes = minutes_limit(dosage)
        return Prescription(entry, dosage, block, 1, None, None, minutes, list(reasons))
    reps, reps_reason = repetitions(dosage)
    hold, hold_reason = hold_for_level(dosage, level)
    notes = [note for note in (reps_reason, hold_reason) if note is not None]
    return Prescription(
        entry,
        dosage,
        block,
        dosage.sets or 1,
        reps,
        hold,
        None,
        reasons + notes,
        sets_may_rise=profile.phase is not Phase.acute,
    )
