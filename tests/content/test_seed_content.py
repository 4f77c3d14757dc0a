"""The seeded content holds every exercise of DOMAIN.md with its facts, and its rules hold."""

from collections.abc import Callable
from typing import Any

import pytest
from seeded import SEED_DIR

from app.content.bundle import ContentBundle, load_seed_directory
from app.domain.exercise import MOTION_FLAGS, Exercise
from app.domain.routines.rules import ROUTINE_RULES, RuleArea, RuleId
from app.domain.vocabulary import (
    FLOOR_FREE_POSITIONS,
    Category,
    Equipment,
    Flag,
    Position,
    SpinalMotion,
)

S000, S001, S002, S003, S004 = (
    "back-injury-rehabilitation",
    "aaos-back-pain-exercises",
    "physical-therapy-for-back-pain",
    "what-stretch-relieves-lower-back-pain",
    "back-pain-relief-stretches",
)

# slug: (sources, position, spinal motion, {source: dosage facts})
EXPECTED: dict[str, tuple[set[str], Position, SpinalMotion, dict[str, dict[str, Any]]]] = {
    "prone-back-extension": (
        {S000},
        Position.prone,
        SpinalMotion.extension,
        {S000: {"hold_seconds": 15, "reps": 10}},
    ),
    "cat-stretch": (
        {S000},
        Position.hands_and_knees,
        SpinalMotion.flexion,
        {S000: {"hold_seconds": 15, "reps": 10}},
    ),
    "lower-trunk-rotation": (
        {S000, S004},
        Position.supine,
        SpinalMotion.rotation,
        {S000: {"hold_seconds": 5, "reps": 10}, S004: {"hold_seconds": 5, "reps": 10}},
    ),
    "quadruped-leg-extension": (
        {S000},
        Position.hands_and_knees,
        SpinalMotion.neutral,
        {S000: {"hold_seconds": 5, "hold_seconds_max": 10}},
    ),
    "ankle-pumps": ({S001}, Position.supine, SpinalMotion.neutral, {S001: {"reps": 10}}),
    "heel-slides": ({S001}, Position.supine, SpinalMotion.neutral, {S001: {"reps": 10}}),
    "abdominal-contraction": (
        {S001},
        Position.supine,
        SpinalMotion.neutral,
        {S001: {"hold_seconds": 5, "reps": 10}},
    ),
    "wall-squat": (
        {S001},
        Position.standing,
        SpinalMotion.neutral,
        {S001: {"hold_seconds": 5, "reps": 10}},
    ),
    "heel-raises": (
        {S001},
        Position.standing,
        SpinalMotion.neutral,
        {S001: {"hold_seconds": 5, "reps": 10}},
    ),
    "straight-leg-raise": (
        {S001},
        Position.supine,
        SpinalMotion.neutral,
        {S001: {"hold_seconds": 1, "hold_seconds_max": 5, "reps": 10}},
    ),
    "single-knee-to-chest": (
        {S001, S003},
        Position.supine,
        SpinalMotion.flexion,
        {S001: {"hold_seconds": 20, "reps": 5, "per_side": True}, S003: {"hold_seconds": 5}},
    ),
    "supine-hamstring-stretch": (
        {S001},
        Position.supine,
        SpinalMotion.neutral,
        {S001: {"hold_seconds": 20, "reps": 5, "per_side": True}},
    ),
    "bed-edge-hip-flexor-stretch": (
        {S001},
        Position.supine,
        SpinalMotion.neutral,
        {S001: {"hold_seconds": 20, "reps": 5, "per_side": True}},
    ),
    "piriformis-stretch": (
        {S001},
        Position.supine,
        SpinalMotion.flexion,
        {S001: {"hold_seconds": 20, "reps": 5, "per_side": True}},
    ),
    "double-knee-to-chest": (
        {S003},
        Position.supine,
        SpinalMotion.flexion,
        {S003: {"hold_seconds": 20}},
    ),
    "active-hamstring-stretch": (
        {S003},
        Position.supine,
        SpinalMotion.neutral,
        {S003: {"hold_seconds": 20, "sets": 3}},
    ),
    "assisted-straight-leg-raise": (
        {S003},
        Position.supine,
        SpinalMotion.neutral,
        {S003: {"hold_seconds": 10}},
    ),
    "strap-straight-leg-raise": (
        {S003},
        Position.supine,
        SpinalMotion.neutral,
        {S003: {"hold_seconds": 10}},
    ),
    "childs-pose": (
        {S004},
        Position.hands_and_knees,
        SpinalMotion.flexion,
        {S004: {"hold_seconds": 10, "reps": 5}},
    ),
    "seated-hamstring-stretch": (
        {S004},
        Position.long_sitting,
        SpinalMotion.neutral,
        {S004: {"hold_seconds": 10, "reps": 5}},
    ),
    "kneeling-hip-flexor-stretch": (
        {S004},
        Position.half_kneeling,
        SpinalMotion.neutral,
        {S004: {"hold_seconds": 10, "reps": 5, "per_side": True}},
    ),
    "back-flattening": ({S003}, Position.supine, SpinalMotion.neutral, {}),
    "swimming": ({S002}, Position.in_water, SpinalMotion.neutral, {S002: {"duration_minutes": 30}}),
    "water-exercise": (
        {S002},
        Position.in_water,
        SpinalMotion.neutral,
        {S002: {"duration_minutes": 30}},
    ),
    "cycling": ({S002}, Position.seated, SpinalMotion.neutral, {S002: {"duration_minutes": 30}}),
    "treadmill-walking": (
        {S002},
        Position.standing,
        SpinalMotion.neutral,
        {S002: {"duration_minutes": 30}},
    ),
    "elliptical-training": (
        {S002},
        Position.standing,
        SpinalMotion.neutral,
        {S002: {"duration_minutes": 30}},
    ),
}


@pytest.fixture(scope="module")
def bundle() -> ContentBundle:
    return load_seed_directory(SEED_DIR)


@pytest.fixture(scope="module")
def exercises(bundle: ContentBundle) -> dict[str, Exercise]:
    return {exercise.slug: exercise for exercise in bundle.exercises}


def test_every_source_exercise_is_present_once(exercises: dict[str, Exercise]) -> None:
    assert set(exercises) == set(EXPECTED)


@pytest.mark.parametrize("slug", sorted(EXPECTED))
def test_exercise_facts(exercises: dict[str, Exercise], slug: str) -> None:
    sources, position, motion, dosages = EXPECTED[slug]
    exercise = exercises[slug]
    assert set(exercise.cited_sources) == sources
    assert exercise.position == position
    assert exercise.spinal_motion == motion
    by_source = {dosage.source: dosage for dosage in exercise.dosages}
    for source, facts in dosages.items():
        for name, value in facts.items():
            assert getattr(by_source[source], name) == value, (slug, source, name)


def test_every_source_is_cited(bundle: ContentBundle, exercises: dict[str, Exercise]) -> None:
    cited = {source for exercise in exercises.values() for source in exercise.cited_sources}
    assert cited == {source.id for source in bundle.sources}
    assert sorted(source.seed_file[:3] for source in bundle.sources) == [
        "000",
        "001",
        "002",
        "003",
        "004",
    ]


@pytest.mark.parametrize(("motion", "flag"), list(MOTION_FLAGS.items()))
def test_directional_exercises_carry_their_flag(
    exercises: dict[str, Exercise], motion: SpinalMotion, flag: Flag
) -> None:
    moving = [e for e in exercises.values() if e.spinal_motion == motion]
    assert moving
    for exercise in moving:
        assert flag in exercise.contraindicated_for, exercise.slug
        assert all(c.reason for c in exercise.contraindications)


def test_links_resolve_and_are_symmetric(exercises: dict[str, Exercise]) -> None:
    for exercise in exercises.values():
        for harder in exercise.progressions.harder:
            assert exercise.slug in exercises[harder].progressions.easier
            assert exercises[harder].level.rank >= exercise.level.rank
        for easier in exercise.progressions.easier:
            assert exercise.slug in exercises[easier].progressions.harder
        for variant in exercise.variants:
            assert exercise.slug in exercises[variant].variants


def test_designed_chains_exist(exercises: dict[str, Exercise]) -> None:
    assert "double-knee-to-chest" in exercises["single-knee-to-chest"].progressions.harder
    assert "active-hamstring-stretch" in exercises["strap-straight-leg-raise"].progressions.harder
    assert "quadruped-leg-extension" in exercises["abdominal-contraction"].progressions.harder


def test_variants_are_linked_not_copied(exercises: dict[str, Exercise]) -> None:
    hamstrings = {
        "supine-hamstring-stretch",
        "active-hamstring-stretch",
        "seated-hamstring-stretch",
    }
    for slug in hamstrings:
        assert hamstrings - {slug} <= set(exercises[slug].variants)
    assert "kneeling-hip-flexor-stretch" in exercises["bed-edge-hip-flexor-stretch"].variants
    rotation = exercises["lower-trunk-rotation"]
    assert {"Hip rolls", "Rotation stretch"} <= set(rotation.aliases)
    assert "straight-leg-raise" not in exercises["strap-straight-leg-raise"].variants


def test_helper_bed_and_equipment_facts(exercises: dict[str, Exercise]) -> None:
    assert [e.slug for e in exercises.values() if e.needs_helper] == ["assisted-straight-leg-raise"]
    assert exercises["wall-squat"].equipment == [Equipment.wall]
    assert exercises["strap-straight-leg-raise"].equipment == [Equipment.strap]
    assert Equipment.bed in exercises["bed-edge-hip-flexor-stretch"].equipment
    for slug in [
        "lower-trunk-rotation",
        "childs-pose",
        "seated-hamstring-stretch",
        "kneeling-hip-flexor-stretch",
        "assisted-straight-leg-raise",
        "bed-edge-hip-flexor-stretch",
        "prone-back-extension",
        "strap-straight-leg-raise",
    ]:
        assert exercises[slug].bed_friendly, slug
    assert all(e.impact == "low" for e in exercises.values())


def test_aaos_levels_follow_the_source(exercises: dict[str, Exercise]) -> None:
    beginner = [
        "ankle-pumps",
        "heel-slides",
        "abdominal-contraction",
        "wall-squat",
        "heel-raises",
        "straight-leg-raise",
    ]
    assert {exercises[s].level for s in beginner} == {"beginner"}
    assert {exercises[s].level for s in ["single-knee-to-chest", "supine-hamstring-stretch"]} == {
        "intermediate"
    }
    assert {exercises[s].level for s in ["bed-edge-hip-flexor-stretch", "piriformis-stretch"]} == {
        "advanced"
    }
    assert all(e.level_rationale for e in exercises.values())


KNEE_TO_CHEST = ["single-knee-to-chest", "double-knee-to-chest", "bed-edge-hip-flexor-stretch"]
NERVE_TENSION = [
    "assisted-straight-leg-raise",
    "strap-straight-leg-raise",
    "active-hamstring-stretch",
    "supine-hamstring-stretch",
    "seated-hamstring-stretch",
]


def reason_for(exercise: Exercise, flag: Flag) -> str:
    return next(c.reason for c in exercise.contraindications if c.flag is flag)


def test_knee_to_chest_stretches_share_the_flexion_contraindication(
    exercises: dict[str, Exercise],
) -> None:
    """The bed-edge stretch starts by hugging both knees to the chest: lumbar flexion."""
    reasons = {reason_for(exercises[slug], Flag.flexion_sensitive) for slug in KNEE_TO_CHEST}
    assert len(reasons) == 1
    bed_edge = exercises["bed-edge-hip-flexor-stretch"]
    assert "knees to your chest" in bed_edge.steps[0]


def test_straight_leg_stretches_are_marked_as_tensioning_the_sciatic_nerve(
    exercises: dict[str, Exercise],
) -> None:
    marked = sorted(slug for slug, e in exercises.items() if e.tensions_sciatic_nerve)
    assert marked == sorted(NERVE_TENSION)
    for slug in NERVE_TENSION:
        assert any("sciatic nerve" in caution for caution in exercises[slug].cautions), slug


def test_long_sitting_is_a_floor_position_done_on_a_bed_at_most(
    exercises: dict[str, Exercise],
) -> None:
    seated = exercises["seated-hamstring-stretch"]
    assert seated.position is Position.long_sitting
    assert Position.long_sitting not in FLOOR_FREE_POSITIONS
    assert seated.bed_friendly
    strap = exercises["strap-straight-leg-raise"]
    assert "floor, or on a bed" in strap.steps[0]
    assert "keeping your back straight" in strap.steps[1]
    assert "design choice" in strap.steps[1]
    assert any("bends the lower back forward" in caution for caution in strap.cautions)
    assert "design choice" in (strap.citations[0].note or "")


def test_prone_back_extension_can_be_done_on_a_firm_bed(exercises: dict[str, Exercise]) -> None:
    prone = exercises["prone-back-extension"]
    assert prone.bed_friendly
    assert "firm bed" in prone.steps[0]
    assert "design choice" in (prone.citations[0].note or "")


def test_kneeling_hip_flexor_stretch_is_done_on_each_side(exercises: dict[str, Exercise]) -> None:
    kneeling = exercises["kneeling-hip-flexor-stretch"]
    assert all(dosage.per_side for dosage in kneeling.dosages)
    assert any("switch legs" in step for step in kneeling.steps)
    tuck = [text for text in [*kneeling.steps, *kneeling.cautions] if "pelvis" in text]
    assert tuck
    assert all("design choice" in text for text in tuck)


def test_labels_say_what_the_sources_say(exercises: dict[str, Exercise]) -> None:
    assisted = " ".join(exercises["assisted-straight-leg-raise"].steps)
    assert "Expect" not in assisted
    assert "you may" in assisted
    active = exercises["active-hamstring-stretch"]
    for text in [active.summary, *active.steps]:
        if "ankle bent" in text:
            assert "toes pulled up towards you (ankle bent)" in text
    assert exercises["quadruped-leg-extension"].category is Category.strengthening


def test_aerobic_dosages_quote_only_source_002(exercises: dict[str, Exercise]) -> None:
    """002 on aerobic work: 3-4 times a week, at least 30 minutes each time. Its "daily" and
    "may take weeks" are about the back exercises, not aerobic work."""
    aerobic = [e for e in exercises.values() if e.category is Category.aerobic]
    assert aerobic
    for exercise in aerobic:
        for dosage in exercise.dosages:
            assert dosage.source == S002
            assert dosage.frequency == "3-4 times a week"
            assert dosage.duration_minutes == 30
            text = f"{dosage.notes} {exercise.summary} {' '.join(exercise.steps)}".lower()
            assert "daily" not in text
            assert "weeks" not in text


CONTENT_RULE_CHECKS: dict[RuleId, Callable[[dict[str, Exercise]], None]] = {
    RuleId.flexion_in_set_up: test_knee_to_chest_stretches_share_the_flexion_contraindication,
    RuleId.long_sitting_is_floor: test_long_sitting_is_a_floor_position_done_on_a_bed_at_most,
    RuleId.nerve_tension_marking: (
        test_straight_leg_stretches_are_marked_as_tensioning_the_sciatic_nerve
    ),
    RuleId.strap_flat_back_set_up: test_long_sitting_is_a_floor_position_done_on_a_bed_at_most,
    RuleId.prone_extension_on_a_firm_bed: test_prone_back_extension_can_be_done_on_a_firm_bed,
    RuleId.both_sides_inferred: test_kneeling_hip_flexor_stretch_is_done_on_each_side,
}
"""Each content rule of GET /v1/routine-rules, with the check that the seed follows it."""


def test_every_content_rule_is_checked_against_the_seed(exercises: dict[str, Exercise]) -> None:
    content_rules = {rule.id for rule in ROUTINE_RULES if rule.area is RuleArea.content}
    assert set(CONTENT_RULE_CHECKS) == content_rules
    for check in CONTENT_RULE_CHECKS.values():
        check(exercises)
