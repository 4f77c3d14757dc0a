"""Clinical-safety properties of the routine engine over 2,000 random profiles per run, on the real
seeded catalogue (the engine itself).

The profiles come from a seeded `random.Random`, so a run is reproducible and each plan is
generated once and checked by every test. The rules are re-stated here from the exercise records
(nerve-tension marks, variant links, positions, cited sets), not from the engine's own helpers.
"""

import random
from collections.abc import Iterator
from functools import cache

import pytest
from seeded import seeded_catalogue, seeded_exercise

from app.domain.routines import Phase, Profile, RoutineItem, RoutinePlan
from app.domain.routines.engine import generate_routine
from app.domain.routines.profile import Sensitivity
from app.domain.routines.rules import RULES_BY_ID, Basis
from app.domain.vocabulary import Category, Equipment, Level, Position, TargetArea

PROFILE_COUNT = 2000
RANDOM_SEED = 20261129
SHORT_SESSION = 15
FLOOR = set(Position) - {Position.standing, Position.seated, Position.in_water}
"""Every position but chair sitting, standing and water is down on the floor (or a bed)."""
GENTLE_CUE = "only to a gentle pull; stop if the leg pain increases or spreads"


def random_profile(draw: random.Random) -> Profile:
    return Profile(
        sensitivity=draw.choice(list(Sensitivity)),
        level=draw.choice(list(Level)),
        target_areas=draw.sample(list(TargetArea), draw.randint(0, 3)),
        available_equipment=draw.sample(list(Equipment), draw.randint(0, len(Equipment))),
        can_get_on_floor=draw.random() < 0.5,
        helper_available=draw.random() < 0.5,
        leg_symptoms=draw.random() < 0.5,
        minutes=draw.randint(5, 90),
        include_aerobic=draw.random() < 0.4,
        phase=draw.choice(list(Phase)),
    )


@cache
def plans() -> tuple[tuple[Profile, RoutinePlan], ...]:
    draw = random.Random(RANDOM_SEED)
    generated = []
    for _ in range(PROFILE_COUNT):
        profile = random_profile(draw)
        generated.append(
            (profile, generate_routine(seeded_catalogue(), profile, draw.getrandbits(31)))
        )
    return tuple(generated)


def items_of(plan: RoutinePlan) -> Iterator[RoutineItem]:
    yield from plan.items


def details(item: RoutineItem, code: str) -> list[str]:
    return [reason.detail for reason in item.reasons if reason.code.value == code]


def test_enough_profiles_and_routines() -> None:
    assert len(plans()) >= 2000
    assert sum(bool(plan.items) for _, plan in plans()) > PROFILE_COUNT // 2


def test_every_reason_names_a_registered_rule_under_its_code() -> None:
    for _, plan in plans():
        for item in plan.items:
            for reason in item.reasons:
                assert RULES_BY_ID[reason.rule].code == reason.code.value, reason
        for exclusion in plan.excluded:
            for excluded_reason in exclusion.reasons:
                rule = RULES_BY_ID[excluded_reason.rule]
                assert rule.code == excluded_reason.code.value, excluded_reason
        assert plan.frequency is not None
        assert all(rule in RULES_BY_ID for rule in plan.frequency.rules)


def test_leg_symptoms_limit_nerve_tension_and_each_says_gentle_pull() -> None:
    for profile, plan in plans():
        tensioning = [item for item in plan.items if item.exercise.slug and _tensions(item)]
        for item in plan.items:
            texts = [*item.exercise.steps, *item.exercise.cautions]
            assert not any("strong pull" in text.lower() for text in texts), item.exercise.slug
        if not profile.leg_symptoms:
            continue
        assert len(tensioning) <= 2
        slugs = {item.exercise.slug for item in tensioning}
        for item in tensioning:
            assert not slugs & set(seeded_exercise(item.exercise.slug).variants), slugs
            assert any(GENTLE_CUE in detail for detail in details(item, "leg_symptoms"))
        assert not {"assisted-straight-leg-raise", "strap-straight-leg-raise"} <= slugs


def _tensions(item: RoutineItem) -> bool:
    return seeded_exercise(item.exercise.slug).tensions_sciatic_nerve


def test_frequency_follows_the_session() -> None:
    for profile, plan in plans():
        frequency = plan.frequency
        assert frequency is not None
        if profile.phase is Phase.acute:
            assert plan.session_minutes == min(profile.minutes, SHORT_SESSION)
            assert plan.estimated_minutes <= SHORT_SESSION
            assert frequency.times_per_day == 3
            if profile.minutes > SHORT_SESSION:
                assert plan.explanation is not None
                assert "design choice" in plan.explanation
                assert f"{SHORT_SESSION} minutes" in plan.explanation
        if frequency.times_per_day == 3:
            assert plan.estimated_minutes <= SHORT_SESSION
            assert profile.phase is not Phase.maintenance
            assert "three times a day" in frequency.routine.lower()
        else:
            assert frequency.times_per_day == 1
            assert "three times a day" not in frequency.routine.lower()
        if plan.estimated_minutes > SHORT_SESSION or profile.phase is Phase.maintenance:
            assert frequency.times_per_day == 1
        has_aerobic = any(item.exercise.category is Category.aerobic for item in plan.items)
        if has_aerobic:
            assert frequency.aerobic is not None
            assert "three times a day" not in frequency.aerobic.lower()
            assert "30 minutes" in frequency.aerobic
            assert frequency.aerobic_times_per_week == 3
            assert frequency.aerobic_minutes == 30
        else:
            assert frequency.aerobic is None


def test_sets_come_from_the_cited_dosage() -> None:
    for profile, plan in plans():
        for item in plan.items:
            if item.duration_minutes is not None:
                continue
            cited = item.exercise.dosage.sets
            if profile.phase is Phase.acute:
                assert item.sets == (cited or 1), item.exercise.slug
            elif cited is not None:
                assert item.sets == cited
            else:
                assert item.sets <= 2
            if item.sets > (cited or 1):
                raised = [reason for reason in item.reasons if reason.code.value == "sets_raised"]
                assert raised
                assert all(RULES_BY_ID[r.rule].basis is Basis.design_choice for r in raised)
                assert all("design choice" in r.detail for r in raised)


def variant_family(slug: str) -> set[str]:
    """Everything linked to the exercise by variant links, either way, directly or not."""
    family, frontier = {slug}, [slug]
    while frontier:
        current = frontier.pop()
        linked = set(seeded_exercise(current).variants) | {
            entry.slug for entry in seeded_catalogue().entries if current in entry.exercise.variants
        }
        frontier.extend(linked - family)
        family |= linked
    return family


def test_at_most_two_variants_of_one_stretch() -> None:
    families = {
        entry.slug: frozenset(variant_family(entry.slug)) for entry in seeded_catalogue().entries
    }
    assert any(len(family) >= 3 for family in families.values())
    for _, plan in plans():
        slugs = {item.exercise.slug for item in plan.items}
        for family in set(families.values()):
            assert len(slugs & family) <= 2, slugs & family


def test_on_a_bed_the_instruction_follows_the_position() -> None:
    for profile, plan in plans():
        if profile.can_get_on_floor:
            continue
        for item in plan.items:
            position = item.exercise.position
            assert position is not Position.half_kneeling
            on_bed = details(item, "on_bed")
            if position in FLOOR:
                assert Equipment.bed in profile.available_equipment
                assert len(on_bed) == 1
                assert "firm bed" in on_bed[0]
                if position is Position.hands_and_knees:
                    assert "on all fours on a firm bed" in on_bed[0]
                    assert "lying" not in on_bed[0].lower()
            standing_balance = (
                position is Position.standing
                and item.exercise.category is not Category.aerobic
                and Equipment.wall not in seeded_exercise(item.exercise.slug).equipment
            )
            if standing_balance:
                support = details(item, "standing_support")
                assert any("hold on to a counter or chair back" in d.lower() for d in support)


def test_the_session_goes_down_to_the_floor_at_most_once() -> None:
    for _, plan in plans():
        heights = [
            item.exercise.position in FLOOR
            for item in plan.items
            if item.exercise.category is not Category.aerobic
        ]
        descents = sum(
            1 for index, low in enumerate(heights) if low and (index == 0 or not heights[index - 1])
        )
        assert descents <= 1, [item.exercise.position.value for item in plan.items]


def test_under_filled_routines_say_what_would_fill_them() -> None:
    for profile, plan in plans():
        if plan.estimated_seconds >= 0.8 * plan.session_minutes * 60:
            assert plan.fill_suggestions == []
            continue
        assert plan.explanation is not None
        only_not_asked = [
            exclusion.name
            for exclusion in plan.excluded
            if [reason.code.value for reason in exclusion.reasons] == ["not_requested"]
        ]
        if only_not_asked:
            assert any(
                "aerobic" in text and only_not_asked[0] in text for text in plan.fill_suggestions
            )
        bed_would_open = [
            exclusion.slug
            for exclusion in plan.excluded
            if [reason.code.value for reason in exclusion.reasons] == ["position"]
            and seeded_exercise(exclusion.slug).bed_friendly
            and seeded_exercise(exclusion.slug).position is not Position.half_kneeling
        ]
        if bed_would_open and Equipment.bed not in profile.available_equipment:
            assert any("bed" in text for text in plan.fill_suggestions)
        for text in plan.fill_suggestions:
            assert text in plan.explanation


@pytest.mark.parametrize("slug", ["assisted-straight-leg-raise", "strap-straight-leg-raise"])
def test_the_nerve_stretches_are_marked_in_the_catalogue(slug: str) -> None:
    """The leg-symptom limits read this mark; the property above is vacuous without it."""
    assert seeded_exercise(slug).tensions_sciatic_nerve
