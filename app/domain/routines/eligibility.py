"""May this person do this exercise, and if not, why: one rule per function, one code each.

Time is not decided here (an exercise can be eligible and still not fit); see `selection.py`.
The rules read a snapshot entry's facts; only the wording of a flag's exclusion reads the whole
exercise (its contraindications' own reasons), and only for the exclusions a routine shows.
"""

from collections.abc import Callable
from typing import Protocol

from app.domain.catalogue import CatalogueEntry
from app.domain.exercise import MOTION_FLAGS
from app.domain.routines.model import ExclusionCode, ExclusionReason
from app.domain.routines.profile import Profile, Sensitivity
from app.domain.routines.rules import RuleId
from app.domain.vocabulary import (
    FLOOR_FREE_POSITIONS,
    Category,
    Equipment,
    Flag,
    Impact,
    Position,
    display_name,
)

FLAGS_AVOIDED: dict[Sensitivity, frozenset[Flag]] = {
    Sensitivity.flexion_sensitive: frozenset({Flag.flexion_sensitive}),
    Sensitivity.extension_sensitive: frozenset({Flag.extension_sensitive}),
    Sensitivity.none: frozenset(),
    Sensitivity.unknown: frozenset({Flag.flexion_sensitive, Flag.extension_sensitive}),
}
"""The contraindication flags a sensitivity rules out. Unknown rules out both end ranges."""

BENDS: dict[Flag, str] = {Flag.flexion_sensitive: "forward", Flag.extension_sensitive: "backwards"}
"""The way of bending each flag is about. A flag, not the exercise's main motion, says it: a
neutral stretch may still bend the back on the way in (the bed-edge hip flexor stretch)."""

EXCLUDED_IMPACTS: frozenset[Impact] = frozenset({Impact.high})
"""Source 002: avoid high-impact activity (running, jogging, jumping) while the back heals."""

Rule = Callable[[CatalogueEntry, Profile], ExclusionReason | None]


def flag_clash(exercise: CatalogueEntry, profile: Profile) -> RuleId | None:
    """The flag rule an exercise breaks for this person, if any (without its wording)."""
    clashes = FLAGS_AVOIDED[profile.sensitivity] & exercise.contraindicated_for
    if not clashes:
        return None
    if profile.sensitivity is Sensitivity.unknown:
        return RuleId.unknown_direction
    from_motion = MOTION_FLAGS.get(exercise.spinal_motion) in clashes
    return RuleId.direction_flag if from_motion else RuleId.flexion_in_set_up


def flag_rule(exercise: CatalogueEntry, profile: Profile) -> ExclusionReason | None:
    rule = flag_clash(exercise, profile)
    if rule is None:
        return None
    clashes = FLAGS_AVOIDED[profile.sensitivity] & exercise.contraindicated_for
    if rule is RuleId.unknown_direction:
        ways = " and ".join(BENDS[flag] for flag in Flag if flag in clashes)
        lead = (
            f"It bends the lower back {ways}; with the direction that eases your pain unknown, "
            "neither forward nor backward bending is offered."
        )
        return ExclusionReason(code=ExclusionCode.flag, rule=rule, detail=lead)
    contraindications = exercise.document()["contraindications"]
    reasons = [item["reason"] for item in contraindications if Flag(item["flag"]) in clashes]
    return ExclusionReason(code=ExclusionCode.flag, rule=rule, detail=" ".join(reasons))


def level_rule(exercise: CatalogueEntry, profile: Profile) -> ExclusionReason | None:
    if exercise.level.rank <= profile.level.rank:
        return None
    return ExclusionReason(
        code=ExclusionCode.level,
        rule=RuleId.level,
        detail=(
            f"It is {article(exercise.level.value)} {exercise.level.value} exercise, above your "
            f"{profile.level.value} level."
        ),
    )


def article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def equipment_rule(exercise: CatalogueEntry, profile: Profile) -> ExclusionReason | None:
    missing = [item for item in exercise.equipment if item not in profile.available_equipment]
    if not missing:
        return None
    names = ", ".join(display_name(item).lower() for item in missing)
    return ExclusionReason(
        code=ExclusionCode.equipment, rule=RuleId.equipment, detail=f"It needs: {names}."
    )


NEVER_ON_A_BED: frozenset[Position] = frozenset({Position.half_kneeling})
"""Positions never offered on a bed to someone who cannot get down to the floor (fall risk)."""


def position_rule(exercise: CatalogueEntry, profile: Profile) -> ExclusionReason | None:
    """Without the floor, only upright or water work, or floor work that can be done on a bed
    (never half-kneeling: kneeling on one knee on a soft, raised surface risks a fall)."""
    if profile.can_get_on_floor or exercise.position in FLOOR_FREE_POSITIONS:
        return None
    if exercise.position in NEVER_ON_A_BED:
        return ExclusionReason(
            code=ExclusionCode.position,
            rule=RuleId.no_half_kneeling_on_bed,
            detail=(
                f"It is done {display_name(exercise.position).lower()}, which is never offered "
                "on a bed to someone who cannot get down to the floor: it risks a fall."
            ),
        )
    if exercise.bed_friendly and Equipment.bed in profile.available_equipment:
        return None
    position = display_name(exercise.position).lower()
    if exercise.bed_friendly:
        detail = (
            f"It is done {position}; it can be done on a bed, but no bed is listed in your "
            "available equipment."
        )
    else:
        detail = f"It is done {position} on the floor, and you cannot get down to the floor."
    rule = (
        RuleId.long_sitting_is_floor
        if exercise.position is Position.long_sitting
        else RuleId.floor_position
    )
    return ExclusionReason(code=ExclusionCode.position, rule=rule, detail=detail)


def helper_rule(exercise: CatalogueEntry, profile: Profile) -> ExclusionReason | None:
    if not exercise.needs_helper or profile.helper_available:
        return None
    return ExclusionReason(
        code=ExclusionCode.helper,
        rule=RuleId.helper,
        detail="It needs a helper, and none is available.",
    )


def impact_rule(exercise: CatalogueEntry, profile: Profile) -> ExclusionReason | None:
    if exercise.impact not in EXCLUDED_IMPACTS:
        return None
    return ExclusionReason(
        code=ExclusionCode.impact,
        rule=RuleId.high_impact,
        detail="It is high-impact; keep to low-impact activity while the back heals.",
    )


def aerobic_rule(exercise: CatalogueEntry, profile: Profile) -> ExclusionReason | None:
    if exercise.category is not Category.aerobic or profile.wants_aerobic:
        return None
    return ExclusionReason(
        code=ExclusionCode.not_requested,
        rule=RuleId.aerobic_not_requested,
        detail="Aerobic activity was not asked for (include_aerobic is false).",
    )


RULES: tuple[Rule, ...] = (
    flag_rule,
    level_rule,
    equipment_rule,
    position_rule,
    helper_rule,
    impact_rule,
    aerobic_rule,
)


def exclusion_reasons(entry: CatalogueEntry, profile: Profile) -> list[ExclusionReason]:
    """Every rule the exercise breaks for this person; empty means eligible."""
    found = (rule(entry, profile) for rule in RULES)
    return [reason for reason in found if reason is not None]


def rule_ids(exercise: CatalogueEntry, profile: Profile) -> tuple[RuleId, ...]:
    """The ids of the rules the exercise breaks for this person, in rule order (the flag's
    without wording it)."""
    flag = flag_clash(exercise, profile)
    found = (rule(exercise, profile) for rule in RULES[1:])
    rules = tuple(reason.rule for reason in found if reason is not None)
    return rules if flag is None else (flag, *rules)


class Placed(Protocol):
    @property
    def position(self) -> Position: ...


def done_on_bed(exercise: Placed, profile: Profile) -> bool:
    """An eligible floor exercise for someone who cannot get down is done on a bed."""
    return not profile.can_get_on_floor and exercise.position not in FLOOR_FREE_POSITIONS
