"""The seeded content holds every exercise of DOMAIN.md with its facts, and its rules hold."""

from pathlib import Path
from typing import Any

import pytest

from app.content.bundle import ContentBundle, load_seed_directory
from app.domain.exercise import MOTION_FLAGS, Exercise
from app.domain.vocabulary import Equipment, Flag, Position, SpinalMotion

SEED_DIR = Path(__file__).resolve().parents[2] / "seed"
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
        Position.seated,
        SpinalMotion.neutral,
        {S004: {"hold_seconds": 10, "reps": 5}},
    ),
    "kneeling-hip-flexor-stretch": (
        {S004},
        Position.half_kneeling,
        SpinalMotion.neutral,
        {S004: {"hold_seconds": 10, "reps": 5}},
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
