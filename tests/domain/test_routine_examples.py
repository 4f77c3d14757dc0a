"""Worked examples of the routine engine and the feedback rules on the real seeded catalogue."""

from datetime import UTC, datetime, timedelta

import pytest
from seeded import SEED_DIR, seeded_catalogue

from app.content.bundle import load_seed_directory
from app.domain.catalogue import Catalogue
from app.domain.routines import (
    RED_FLAGS,
    Difficulty,
    Feedback,
    Outcome,
    Phase,
    Profile,
    Recommendation,
    RedFlagId,
    RoutinePlan,
    Sensitivity,
    Session,
    Urgency,
    recommend,
)
from app.domain.routines.engine import generate_routine
from app.domain.vocabulary import Equipment, Level, Position, SpinalMotion, TargetArea


def plan_for(seed: int = 1, /, **fields: object) -> RoutinePlan:
    return generate_routine(seeded_catalogue(), Profile.model_validate(fields), seed)


def slugs(plan: RoutinePlan) -> list[str]:
    return [item.exercise.slug for item in plan.items]


def codes(plan: RoutinePlan, slug: str) -> set[str]:
    item = next(item for item in plan.items if item.exercise.slug == slug)
    return {reason.code.value for reason in item.reasons}


def exclusion_codes(plan: RoutinePlan, slug: str) -> set[str]:
    exclusion = next(exclusion for exclusion in plan.excluded if exclusion.slug == slug)
    return {reason.code.value for reason in exclusion.reasons}


@pytest.mark.parametrize("level", list(Level))
@pytest.mark.parametrize("sensitivity", list(Sensitivity))
def test_each_sensitivity_at_each_level(sensitivity: Sensitivity, level: Level) -> None:
    plan = plan_for(sensitivity=sensitivity.value, level=level.value, phase="recovering")
    assert plan.outcome is Outcome.routine
    assert plan.items
    assert 0.8 * 20 * 60 <= plan.estimated_seconds <= 20 * 60
    motions = {item.exercise.spinal_motion for item in plan.items}
    assert all(item.exercise.level.rank <= level.rank for item in plan.items)
    if sensitivity is Sensitivity.flexion_sensitive:
        assert SpinalMotion.flexion not in motions
        assert plan.items[0].exercise.slug == "prone-back-extension"
    if sensitivity is Sensitivity.extension_sensitive:
        assert SpinalMotion.extension not in motions
        first = plan.items[0].exercise
        assert first.spinal_motion is SpinalMotion.flexion
        assert first.level is Level.beginner
        assert "indicated_direction" in codes(plan, first.slug)
    if sensitivity is Sensitivity.unknown:
        assert motions.isdisjoint({SpinalMotion.flexion, SpinalMotion.extension})
        assert "prone-back-extension" not in slugs(plan)
        assert exclusion_codes(plan, "prone-back-extension") == {"flag"}


def test_extension_sensitive_note_says_flexion_first_is_clinical_convention() -> None:
    plan = plan_for(sensitivity="extension_sensitive")
    assert any("clinical convention" in note for note in plan.safety_notes)


def test_someone_who_cannot_get_on_the_floor_without_a_bed_stays_upright() -> None:
    plan = plan_for(can_get_on_floor=False, level="advanced")
    upright = {Position.standing, Position.seated, Position.in_water}
    assert plan.items
    assert all(item.exercise.position in upright for item in plan.items)
    assert "position" in exclusion_codes(plan, "lower-trunk-rotation")


def test_with_a_bed_floor_stretches_are_done_on_the_bed() -> None:
    plan = plan_for(can_get_on_floor=False, available_equipment=["bed"], minutes=30)
    assert "lower-trunk-rotation" in slugs(plan)
    assert "on_bed" in codes(plan, "lower-trunk-rotation")
    assert "position" in exclusion_codes(plan, "ankle-pumps")


def test_the_assisted_raise_needs_a_helper() -> None:
    profile = {"level": "intermediate", "target_areas": ["sciatic_nerve"], "minutes": 15}
    alone = plan_for(**profile)
    assert "assisted-straight-leg-raise" not in slugs(alone)
    assert "helper" in exclusion_codes(alone, "assisted-straight-leg-raise")
    helped = plan_for(**profile, helper_available=True)
    assert "assisted-straight-leg-raise" in slugs(helped)


def test_leg_symptoms_bring_the_nerve_care_note() -> None:
    plan = plan_for(
        level="intermediate",
        target_areas=["sciatic_nerve"],
        helper_available=True,
        leg_symptoms=True,
    )
    assert any("leg" in note and "stop" in note for note in plan.safety_notes)
    nerve_items = [item for item in plan.items if "sciatic_nerve" in item.exercise.target_areas]
    assert nerve_items
    assert all("leg_symptoms" in codes(plan, item.exercise.slug) for item in nerve_items)
    without = plan_for(level="intermediate", target_areas=["sciatic_nerve"], helper_available=True)
    assert not any("spreading into a leg" in note for note in without.safety_notes)


def test_target_areas_come_first_even_in_a_short_routine() -> None:
    plan = plan_for(minutes=5, target_areas=["calves"], sensitivity="none")
    assert any(TargetArea.calves in item.exercise.target_areas for item in plan.items)
    assert plan.estimated_seconds <= 300


def test_aerobic_is_scaled_to_the_time_and_cited() -> None:
    plan = plan_for(
        include_aerobic=True, available_equipment=["bicycle"], minutes=20, phase="recovering"
    )
    aerobic = [item for item in plan.items if item.duration_minutes is not None]
    assert [item.exercise.slug for item in aerobic] == ["cycling"]
    assert aerobic[0].duration_minutes is not None
    assert 10 <= aerobic[0].duration_minutes < 30
    assert "aerobic_scaled" in codes(plan, "cycling")
    assert plan.frequency is not None
    assert plan.frequency.aerobic is not None
    assert "physical-therapy-for-back-pain" in {citation.source for citation in plan.citations}
    long = plan_for(
        include_aerobic=True, available_equipment=["bicycle"], minutes=90, phase="maintenance"
    )
    assert (
        next(item for item in long.items if item.exercise.slug == "cycling").duration_minutes == 30
    )


def test_aerobic_is_left_out_unless_asked() -> None:
    plan = plan_for(available_equipment=["bicycle"])
    assert "cycling" not in slugs(plan)
    assert exclusion_codes(plan, "cycling") == {"not_requested"}


@pytest.mark.parametrize(
    ("phase", "minutes", "words", "times_per_day"),
    [
        (Phase.acute, 20, "Three times a day", 3),
        (Phase.recovering, 15, "once a day once it has gone", 3),
        (Phase.recovering, 30, "Once a day", 1),
        (Phase.maintenance, 10, "Once a day", 1),
    ],
)
def test_frequency_follows_the_phase_and_the_session(
    phase: Phase, minutes: int, words: str, times_per_day: int
) -> None:
    plan = plan_for(phase=phase.value, minutes=minutes)
    assert plan.frequency is not None
    assert words in plan.frequency.routine
    assert plan.frequency.times_per_day == times_per_day
    assert "back-injury-rehabilitation" in plan.frequency.sources


def test_citations_carry_titles_from_the_catalogue() -> None:
    plan = plan_for(sensitivity="flexion_sensitive")
    titles = {citation.source: citation.title for citation in plan.citations}
    assert titles["back-injury-rehabilitation"] == "Back Injury Rehabilitation"
    for item in plan.items:
        assert item.exercise.dosage.source in titles


def test_safety_notes_always_hold_the_stop_rule_and_the_check_first_note() -> None:
    plan = plan_for()
    assert any("Stop any exercise" in note for note in plan.safety_notes)
    assert any("healthcare provider" in note for note in plan.safety_notes)
    assert any("slowly" in note for note in plan.safety_notes)


@pytest.mark.parametrize("flag", list(RedFlagId))
def test_any_red_flag_refers(flag: RedFlagId) -> None:
    plan = plan_for(red_flags=[flag.value])
    assert plan.outcome is Outcome.refer
    assert plan.blocks == []
    assert plan.referral is not None
    assert [red_flag.id for red_flag in plan.referral.red_flags] == [flag]


def test_the_most_urgent_red_flag_sets_the_urgency() -> None:
    plan = plan_for(red_flags=["strain_pain_beyond_two_weeks", "bladder_or_bowel_control_loss"])
    assert plan.referral is not None
    assert plan.referral.urgency is Urgency.emergency
    only_strain = plan_for(red_flags=["strain_pain_beyond_two_weeks"])
    assert only_strain.referral is not None
    assert only_strain.referral.urgency is Urgency.soon


def test_red_flags_have_questions_and_advice() -> None:
    assert {flag.id for flag in RED_FLAGS} == set(RedFlagId)
    for flag in RED_FLAGS:
        assert flag.question.endswith("?")
        assert flag.advice


def test_same_inputs_same_routine_and_other_seeds_vary() -> None:
    profile = {"sensitivity": "none", "level": "advanced", "minutes": 15}
    assert plan_for(7, **profile) == plan_for(7, **profile)
    variants = {tuple(slugs(plan_for(seed, **profile))) for seed in range(20)}
    assert len(variants) > 1


def test_a_profile_nothing_fits_gives_an_empty_routine_with_an_explanation() -> None:
    bundle = load_seed_directory(SEED_DIR)
    flexion_only = [e for e in bundle.exercises if e.spinal_motion is SpinalMotion.flexion]
    small = Catalogue([(exercise, 1) for exercise in flexion_only], bundle.sources, revision=3)
    plan = generate_routine(small, Profile(sensitivity=Sensitivity.unknown), 5)
    assert plan.outcome is Outcome.routine
    assert plan.blocks == []
    assert plan.estimated_seconds == 0
    assert plan.explanation is not None
    assert "flag" in plan.explanation
    assert {exclusion.slug for exclusion in plan.excluded} == {e.slug for e in flexion_only}
    empty = generate_routine(Catalogue([], bundle.sources), Profile(), 5)
    assert empty.blocks == []
    assert empty.explanation is not None


def test_profile_rejects_unknown_fields_and_bad_minutes() -> None:
    with pytest.raises(ValueError, match="extra"):
        Profile.model_validate({"minutes": 20, "favourite_colour": "blue"})
    with pytest.raises(ValueError, match="minutes"):
        Profile.model_validate({"minutes": 4})
    assert Profile().phase is Phase.acute
    assert Profile().sensitivity is Sensitivity.unknown
    assert Equipment.bed not in Profile().available_equipment


def feedback(
    before: int,
    after: int,
    difficulty: str = "right",
    *,
    completed: bool = True,
    new_leg_symptoms: bool = False,
) -> Feedback:
    return Feedback(
        pain_before=before,
        pain_after=after,
        completed=completed,
        difficulty=Difficulty(difficulty),
        new_leg_symptoms=new_leg_symptoms,
    )


NOW = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)


def good_week(sessions: int = 3, days: int = 6) -> list[Session]:
    """Earlier good sessions spread over `days` days before NOW, oldest first."""
    step = timedelta(days=days) / max(sessions, 1)
    return [
        Session(feedback(3, 2), Recommendation.repeat, NOW - timedelta(days=days) + step * index)
        for index in range(sessions)
    ]


def test_feedback_easy_after_a_good_week_advances_the_level() -> None:
    outcome = recommend(
        Profile(level=Level.beginner, seed=3), feedback(4, 3, "easy"), good_week(), NOW
    )
    assert outcome.recommendation is Recommendation.advance
    assert outcome.rule_id == "easy-without-more-pain"
    assert outcome.advice is None
    assert outcome.next_profile is not None
    assert outcome.next_profile.level is Level.intermediate
    assert outcome.next_profile.seed is None


@pytest.mark.parametrize(
    "history",
    [
        [],
        good_week(sessions=3, days=5),
        good_week(sessions=2, days=6),
        [Session(feedback(3, 4), Recommendation.regress, NOW - timedelta(days=8))],
    ],
    ids=["single session", "under a week", "too few sessions", "pain rose earlier"],
)
def test_feedback_easy_does_not_advance_before_a_good_week(history: list[Session]) -> None:
    outcome = recommend(Profile(level=Level.beginner), feedback(4, 3, "easy"), history, NOW)
    assert outcome.recommendation is Recommendation.repeat
    assert outcome.rule_id == "move-up-after-a-week"
    assert outcome.adjustment is not None
    assert "so far" in outcome.adjustment
    assert outcome.advice is not None
    assert "physical therapist" in outcome.advice


def test_feedback_no_advance_while_pain_after_is_high() -> None:
    outcome = recommend(Profile(), feedback(7, 5, "easy"), good_week(), NOW)
    assert outcome.recommendation is Recommendation.repeat
    assert outcome.rule_id == "pain-too-high-to-advance"


def test_feedback_advance_at_the_top_level_lengthens_the_routine() -> None:
    outcome = recommend(
        Profile(level=Level.advanced, minutes=20, phase=Phase.recovering),
        feedback(2, 2, "easy"),
        good_week(),
        NOW,
    )
    assert outcome.next_profile is not None
    assert outcome.next_profile.level is Level.advanced
    assert outcome.next_profile.minutes == 25


def test_feedback_advance_in_the_acute_phase_keeps_the_session_short() -> None:
    """An acute session is at most 15 minutes: advancing never promises a longer one."""
    outcome = recommend(
        Profile(level=Level.advanced, minutes=20), feedback(2, 2, "easy"), good_week(), NOW
    )
    assert outcome.next_profile is not None
    assert outcome.next_profile.minutes == 20
    assert outcome.adjustment is not None
    assert "15 minutes" in outcome.adjustment
    shorter = recommend(
        Profile(level=Level.advanced, minutes=10), feedback(2, 2, "easy"), good_week(), NOW
    )
    assert shorter.next_profile is not None
    assert shorter.next_profile.minutes == 15


def test_feedback_pain_gone_in_the_acute_phase_moves_to_recovering() -> None:
    outcome = recommend(Profile(phase=Phase.acute), feedback(0, 0), [], NOW)
    assert outcome.recommendation is Recommendation.repeat
    assert outcome.next_profile is not None
    assert outcome.next_profile.phase is Phase.recovering
    assert outcome.adjustment is not None
    assert "recovering" in outcome.adjustment
    still_sore = recommend(Profile(phase=Phase.acute), feedback(2, 0), [], NOW)
    assert still_sore.next_profile is not None
    assert still_sore.next_profile.phase is Phase.acute


def test_feedback_small_pain_rise_regresses_and_repeats_the_stop_rule() -> None:
    outcome = recommend(Profile(level=Level.intermediate), feedback(3, 5))
    assert outcome.recommendation is Recommendation.regress
    assert "stop and contact your doctor" in outcome.rule
    assert "design choice" in outcome.rule
    assert outcome.advice is not None
    assert "physical therapist" in outcome.advice


def test_feedback_about_right_repeats() -> None:
    profile = Profile(level=Level.intermediate)
    outcome = recommend(profile, feedback(3, 3))
    assert outcome.recommendation is Recommendation.repeat
    assert outcome.next_profile == profile


def test_feedback_hard_regresses_the_level_then_the_minutes() -> None:
    outcome = recommend(Profile(level=Level.intermediate), feedback(3, 3, "hard"))
    assert outcome.recommendation is Recommendation.regress
    assert outcome.next_profile is not None
    assert outcome.next_profile.level is Level.beginner
    beginner = recommend(
        Profile(level=Level.beginner, minutes=20, phase=Phase.recovering), feedback(3, 5)
    )
    assert beginner.recommendation is Recommendation.regress
    assert beginner.rule_id == "pain-rose"
    assert beginner.next_profile is not None
    assert beginner.next_profile.minutes == 15
    acute = recommend(Profile(level=Level.beginner, minutes=30), feedback(3, 5))
    assert acute.next_profile is not None
    assert acute.next_profile.minutes == 10, "shorter than the 15-minute session actually done"


@pytest.mark.parametrize(
    ("before", "after", "new_leg_symptoms", "rule"),
    [
        (2, 5, False, "pain-rose-sharply"),
        (0, 10, False, "new-pain"),
        (0, 1, False, "new-pain"),
        (3, 3, True, "new-leg-symptoms"),
        (5, 2, True, "new-leg-symptoms"),
    ],
)
def test_feedback_stop_and_consult(
    before: int, after: int, new_leg_symptoms: bool, rule: str
) -> None:
    outcome = recommend(
        Profile(), feedback(before, after, "easy", new_leg_symptoms=new_leg_symptoms)
    )
    assert outcome.recommendation is Recommendation.stop_and_consult
    assert outcome.rule_id == rule
    assert outcome.rule
    assert outcome.next_profile is None
    assert outcome.advice is not None
    assert "physical therapist" in outcome.advice


def test_feedback_worse_leg_symptoms_stop() -> None:
    worse = Feedback(
        pain_before=4, pain_after=3, completed=True, difficulty="easy", leg_symptoms_worse=True
    )
    outcome = recommend(Profile(), worse, good_week(), NOW)
    assert outcome.recommendation is Recommendation.stop_and_consult
    assert outcome.rule_id == "leg-symptoms-worse"
    assert (
        Feedback(pain_before=1, pain_after=1, completed=True, difficulty="easy").leg_symptoms_worse
        is False
    )


def test_feedback_rejects_out_of_range_pain() -> None:
    with pytest.raises(ValueError, match="pain_after"):
        Feedback.model_validate(
            {"pain_before": 0, "pain_after": 11, "completed": True, "difficulty": "easy"}
        )
