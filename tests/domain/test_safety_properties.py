"""The safety rules as properties over random profiles and feedback, on the real seeded
catalogue. Each runs over at least 2,000 examples (the engine takes a few milliseconds a
routine, so this stays fast). The rules are re-stated from the rules' sources, not imported from the
engine, so a wrong rule fails here instead of agreeing with itself."""

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from seeded import random_profiles, seeded_catalogue, seeded_exercise, seeds

from app.domain.routines import (
    RED_FLAGS,
    Difficulty,
    Feedback,
    Outcome,
    Phase,
    Profile,
    Recommendation,
    RedFlagId,
    Sensitivity,
    Session,
    Urgency,
    recommend,
)
from app.domain.routines.engine import generate_routine
from app.domain.vocabulary import Equipment, Flag, Position, SpinalMotion

EXAMPLES = 2000
OFF_THE_FLOOR = {Position.standing, Position.seated, Position.in_water}
"""Chair sitting, standing and water: long sitting is on the floor (or a bed)."""
NERVE_TENSION = {
    "assisted-straight-leg-raise",
    "strap-straight-leg-raise",
    "active-hamstring-stretch",
    "supine-hamstring-stretch",
    "seated-hamstring-stretch",
}
"""Every stretch that holds the leg straight with the hip bent."""
URGENCY = {flag.id: flag.urgency for flag in RED_FLAGS}
SOON = [flag for flag, urgency in URGENCY.items() if urgency is Urgency.soon]
STOP_WORDS = "stop and contact your doctor"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


profiles = random_profiles(
    red_flags=st.one_of(st.just([]), st.lists(st.sampled_from(RedFlagId), max_size=3, unique=True)),
    cleared_by_clinician=st.booleans(),
)


@settings(max_examples=EXAMPLES, deadline=None)
@given(profiles, seeds)
def test_routines_keep_the_content_and_red_flag_rules(profile: Profile, seed: int) -> None:
    plan = generate_routine(seeded_catalogue(), profile, seed)
    urgencies = {URGENCY[flag] for flag in profile.red_flags}
    cleared = profile.cleared_by_clinician and urgencies == {Urgency.soon}
    if urgencies and not cleared:
        assert plan.outcome is Outcome.refer
        assert plan.items == []
        assert plan.referral is not None
        assert not plan.referral.cleared_by_clinician
        return
    assert plan.outcome is Outcome.routine
    if urgencies:
        assert plan.referral is not None
        assert plan.referral.cleared_by_clinician
        assert plan.referral.advice in plan.safety_notes
    else:
        assert plan.referral is None

    bed = Equipment.bed in profile.available_equipment
    for item in plan.items:
        record = seeded_exercise(item.exercise.slug)
        codes = {reason.code.value for reason in item.reasons}
        if not profile.can_get_on_floor and record.position not in OFF_THE_FLOOR:
            assert record.bed_friendly
            assert bed
            assert "on_bed" in codes
        if profile.sensitivity in (Sensitivity.flexion_sensitive, Sensitivity.unknown):
            assert Flag.flexion_sensitive not in record.contraindicated_for
            assert item.exercise.slug != "bed-edge-hip-flexor-stretch"
        if profile.leg_symptoms and item.exercise.slug in NERVE_TENSION:
            assert "leg_symptoms" in codes
    if profile.leg_symptoms:
        assert sum(item.exercise.slug in NERVE_TENSION for item in plan.items) <= 2
    if profile.wants_aerobic and not any(block.name == "aerobic" for block in plan.blocks):
        assert plan.explanation is not None
        assert "You asked for aerobic exercise" in plan.explanation
    two_up = [
        e.exercise.name
        for e in seeded_catalogue().entries
        if e.exercise.level.rank >= profile.level.rank + 2
    ]
    for suggestion in plan.fill_suggestions:
        assert not any(name in suggestion for name in two_up), suggestion
        if item.exercise.slug == "kneeling-hip-flexor-stretch":
            assert item.per_side
        if item.exercise.position is Position.long_sitting:
            assert profile.can_get_on_floor or bed

    indicated = {
        Sensitivity.flexion_sensitive: SpinalMotion.extension,
        Sensitivity.extension_sensitive: SpinalMotion.flexion,
    }.get(profile.sensitivity)
    if indicated is not None:
        if not any(item.exercise.spinal_motion is indicated for item in plan.items):
            assert plan.explanation is not None
            assert "indicated direction" in plan.explanation
        if (
            profile.sensitivity is Sensitivity.flexion_sensitive
            and (profile.can_get_on_floor or bed)
            and not urgencies
        ):
            assert plan.items[0].exercise.slug == "prone-back-extension"

    ice = any("Ice" in note for note in plan.safety_notes)
    assert ice is (profile.phase is Phase.acute)
    if profile.sensitivity is Sensitivity.flexion_sensitive:
        assert any("McKenzie" in note for note in plan.safety_notes)
    for excluded in plan.excluded:
        for reason in excluded.reasons:
            assert "a intermediate" not in reason.detail
            assert "a advanced" not in reason.detail


feedbacks = st.builds(
    Feedback,
    pain_before=st.integers(0, 10),
    pain_after=st.integers(0, 10),
    completed=st.booleans(),
    difficulty=st.sampled_from(Difficulty),
    new_leg_symptoms=st.booleans(),
    leg_symptoms_worse=st.booleans(),
)


@st.composite
def histories(draw: st.DrawFn) -> list[Session]:
    """Earlier feedback on the chain, oldest first, spread over up to three weeks."""
    count = draw(st.integers(0, 8))
    offsets = sorted(draw(st.lists(st.integers(1, 21 * 24), min_size=count, max_size=count)))
    return [
        Session(
            draw(feedbacks),
            draw(st.sampled_from(Recommendation)),
            NOW - timedelta(hours=offset),
        )
        for offset in reversed(offsets)
    ]


def good(feedback: Feedback) -> bool:
    return (
        feedback.completed
        and feedback.pain_after <= feedback.pain_before
        and feedback.pain_after < 5
        and not feedback.new_leg_symptoms
        and not feedback.leg_symptoms_worse
        and feedback.difficulty is not Difficulty.hard
    )


@settings(max_examples=EXAMPLES, deadline=None)
@given(profiles, feedbacks, histories())
def test_feedback_keeps_the_stop_rule_and_moves_up_only_after_a_good_week(
    profile: Profile, feedback: Feedback, history: list[Session]
) -> None:
    outcome = recommend(profile, feedback, history, NOW)
    rise = feedback.pain_after - feedback.pain_before
    new_pain = feedback.pain_before == 0 and feedback.pain_after > 0
    leg = feedback.new_leg_symptoms or feedback.leg_symptoms_worse
    rose_before = bool(history) and history[-1].feedback.pain_change > 0
    chain_rises = sum(max(0, f.pain_change) for f in [*(s.feedback for s in history), feedback])
    if new_pain or leg or rise >= 3:
        assert outcome.recommendation is Recommendation.stop_and_consult
        assert outcome.next_profile is None
    elif rise > 0 and (rose_before or chain_rises >= 3):
        assert outcome.recommendation is Recommendation.stop_and_consult
    elif rise > 0:
        assert outcome.recommendation is Recommendation.regress
        assert STOP_WORDS in outcome.rule
        assert "design choice" in outcome.rule
    if outcome.recommendation is Recommendation.advance:
        assert good(feedback)
        assert feedback.difficulty is Difficulty.easy
        run = []
        for session in reversed(history):
            if session.recommendation is not Recommendation.repeat or not good(session.feedback):
                break
            run.append(session)
        assert len(run) + 1 >= 4
        assert NOW - run[-1].reported_at >= timedelta(days=6)
        assert outcome.advice is None or "physical therapist" not in outcome.advice
    else:
        assert outcome.advice is not None
        assert "physical therapist" in outcome.advice
    if outcome.next_profile is not None:
        pain_gone = feedback.pain_before == 0 and feedback.pain_after == 0
        if profile.phase is Phase.acute and pain_gone:
            assert outcome.next_profile.phase is Phase.recovering
        else:
            assert outcome.next_profile.phase is profile.phase


@settings(max_examples=EXAMPLES, deadline=None)
@given(profiles, feedbacks)
def test_a_single_session_never_advances(profile: Profile, feedback: Feedback) -> None:
    assert recommend(profile, feedback, [], NOW).recommendation is not Recommendation.advance
    assert recommend(profile, feedback).recommendation is not Recommendation.advance


def test_soon_flags_are_the_ones_a_clinician_can_clear() -> None:
    assert set(SOON) == {
        RedFlagId.strain_pain_beyond_two_weeks,
        RedFlagId.history_of_cancer,
        RedFlagId.unexplained_weight_loss,
    }
