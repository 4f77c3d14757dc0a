"""Feedback over a chain of sessions, as properties over random chains on the real seeded
catalogue: each example is one person's chain of 2-10 sessions (random pain, difficulty, leg
symptoms and times between them), fed back session by session as the service does, with the
routine generated at each step. The chain rules are re-stated here, not imported from the
engine, so a wrong rule fails instead of agreeing with itself."""

from datetime import UTC, datetime, timedelta
from functools import cache

from hypothesis import given, settings
from hypothesis import strategies as st
from seeded import random_profiles, seeded_catalogue

from app.domain.routines import (
    Difficulty,
    Feedback,
    LegSymptom,
    Phase,
    Profile,
    Recommendation,
    RoutinePlan,
    Sensitivity,
    Session,
    Urgency,
    recommend,
)
from app.domain.routines.engine import generate_routine
from app.domain.vocabulary import Level

CHAINS = 1000
RISE_TO_STOP = 3
ADVANCE_STEP_MINUTES = 5
ACUTE_SESSION_MINUTES = 15
TWO_WEEKS = timedelta(days=14)
APPOINTMENT = "make an appointment with your primary care physician"
START = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


@cache
def routine_for(profile_json: str, seed: int) -> RoutinePlan:
    return generate_routine(seeded_catalogue(), Profile.model_validate_json(profile_json), seed)


def session_budget(profile: Profile) -> int:
    """The minutes one session may take: the minutes asked, at most 15 in the acute phase."""
    if profile.phase is Phase.acute:
        return min(profile.minutes, ACUTE_SESSION_MINUTES)
    return profile.minutes


profiles = random_profiles(most_target_areas=2, most_equipment=4)
PAIN_CHANGES = (-3, -2, -1, -1, 0, 0, 0, 0, 1, 1, 2, 3)
"""Mostly steady or easing, sometimes rising."""
LEG_REPORTS: tuple[dict[str, object], ...] = (
    {"new_leg_symptoms": True},
    {"leg_symptoms_worse": True},
    {"symptoms": [LegSymptom.numbness]},
    {"symptoms": [LegSymptom.tingling, LegSymptom.pain]},
    {"leg_symptoms_worse": True, "symptoms": [LegSymptom.weakness]},
    {"saddle_numbness": True},
)
"""Leg reports, each drawn one time in 20 (none otherwise)."""
SESSION = st.tuples(
    st.integers(0, 10),  # pain before
    st.integers(0, len(PAIN_CHANGES) - 1),
    st.integers(0, 3),  # not completed one time in 4
    st.sampled_from(Difficulty),
    st.integers(0, 20 * len(LEG_REPORTS) - 1),
    st.integers(1, 5 * 24),  # hours since the session before
)
"""One session as plain numbers: much cheaper for hypothesis to draw than built models."""


def feedback_of(drawn: tuple[int, int, int, Difficulty, int, int]) -> Feedback:
    before, change, completed, difficulty, leg, _ = drawn
    report = LEG_REPORTS[leg] if leg < len(LEG_REPORTS) else {}
    return Feedback.model_validate(
        {
            "pain_before": before,
            "pain_after": min(10, max(0, before + PAIN_CHANGES[change])),
            "completed": completed > 0,
            "difficulty": difficulty,
            **report,
        }
    )


@st.composite
def chains(draw: st.DrawFn) -> tuple[Profile, list[tuple[Feedback, datetime]]]:
    """A profile and 2-10 sessions' feedback with when it was given, hours to days apart."""
    profile = draw(profiles)
    when, sessions = START, []
    for drawn in draw(st.lists(SESSION, min_size=2, max_size=10)):
        when += timedelta(hours=drawn[-1])
        sessions.append((feedback_of(drawn), when))
    return profile, sessions


def rose(feedback: Feedback) -> bool:
    return feedback.pain_after > feedback.pain_before


def must_stop(feedback: Feedback, history: list[Session]) -> bool:
    """The chain rules: a second rise in a row, or rises adding up to 3 over the chain."""
    rises = sum(max(0, s.feedback.pain_after - s.feedback.pain_before) for s in history)
    rises += max(0, feedback.pain_after - feedback.pain_before)
    return (rose(feedback) and bool(history) and rose(history[-1].feedback)) or (
        rises >= RISE_TO_STOP
    )


def pain_not_eased(feedback: Feedback, history: list[Session], now: datetime) -> bool:
    return (
        bool(history)
        and now - history[0].reported_at >= TWO_WEEKS
        and 0 < feedback.pain_after >= history[0].feedback.pain_before
    )


@settings(max_examples=CHAINS, deadline=None)
@given(chains())
def test_feedback_chains_keep_the_chain_rules(
    chain: tuple[Profile, list[tuple[Feedback, datetime]]],
) -> None:
    profile, sessions = chain
    history: list[Session] = []
    for seed, (feedback, now) in enumerate(sessions, start=1):
        outcome = recommend(profile, feedback, history, now)
        if must_stop(feedback, history):
            assert outcome.recommendation is Recommendation.stop_and_consult
        if feedback.saddle_numbness or LegSymptom.weakness in feedback.symptoms:
            assert outcome.recommendation is Recommendation.stop_and_consult
            assert outcome.urgency is Urgency.emergency
            assert "emergency" in outcome.rule
        if pain_not_eased(feedback, history, now):
            assert outcome.advice is not None
            assert APPOINTMENT in outcome.advice
        elif outcome.advice is not None:
            assert APPOINTMENT not in outcome.advice
        if outcome.recommendation is Recommendation.stop_and_consult:
            assert outcome.next_profile is None
            return
        following = outcome.next_profile
        assert following is not None
        budget, next_budget = session_budget(profile), session_budget(following)
        if outcome.recommendation in (Recommendation.regress, Recommendation.repeat):
            assert next_budget <= budget
        assert next_budget <= budget + ADVANCE_STEP_MINUTES
        if profile.phase is Phase.acute and following.level is not profile.level:
            assert following.level.rank <= Level.intermediate.rank
        routine = routine_for(following.model_dump_json(), seed)
        assert routine.estimated_minutes <= next_budget
        history.append(Session(feedback, outcome.recommendation, now))
        profile = following


def test_a_steady_small_rise_stops_at_the_second_session() -> None:
    profile, history = Profile(), list[Session]()
    for day, (before, after) in enumerate([(3, 4), (3, 4)]):
        feedback = Feedback(
            pain_before=before, pain_after=after, completed=True, difficulty=Difficulty.right
        )
        outcome = recommend(profile, feedback, history, START + timedelta(days=day))
        history.append(Session(feedback, outcome.recommendation, START + timedelta(days=day)))
    assert [session.recommendation for session in history] == [
        Recommendation.regress,
        Recommendation.stop_and_consult,
    ]
    assert outcome.rule_id.value == "pain-rose-again"


def test_rises_that_add_up_to_three_stop_the_chain() -> None:
    pains = [(3, 4), (4, 4), (4, 5), (5, 5), (5, 6)]
    profile, history = Profile(), list[Session]()
    for day, (before, after) in enumerate(pains):
        feedback = Feedback(
            pain_before=before, pain_after=after, completed=True, difficulty=Difficulty.right
        )
        outcome = recommend(profile, feedback, history, START + timedelta(days=day))
        history.append(Session(feedback, outcome.recommendation, START + timedelta(days=day)))
    assert history[-1].recommendation is Recommendation.stop_and_consult
    assert outcome.rule_id.value == "pain-rose-over-chain"
    assert all(s.recommendation is not Recommendation.stop_and_consult for s in history[:-1])


def test_hard_at_no_pain_leaving_acute_keeps_the_short_session() -> None:
    profile = Profile(sensitivity=Sensitivity.extension_sensitive, minutes=90)
    feedback = Feedback(pain_before=0, pain_after=0, completed=True, difficulty=Difficulty.hard)
    outcome = recommend(profile, feedback, [], START)
    assert outcome.recommendation is Recommendation.regress
    assert outcome.next_profile is not None
    assert outcome.next_profile.phase is Phase.recovering
    assert outcome.next_profile.minutes <= ACUTE_SESSION_MINUTES
    routine = generate_routine(seeded_catalogue(), outcome.next_profile, 1)
    assert routine.estimated_minutes <= ACUTE_SESSION_MINUTES


def test_named_leg_weakness_is_an_emergency() -> None:
    feedback = Feedback(
        pain_before=2,
        pain_after=2,
        completed=True,
        difficulty=Difficulty.right,
        symptoms=[LegSymptom.weakness],
    )
    outcome = recommend(Profile(leg_symptoms=True), feedback, [], START)
    assert outcome.recommendation is Recommendation.stop_and_consult
    assert outcome.urgency is Urgency.emergency
    assert outcome.rule_id.value == "leg-weakness"


def test_named_tingling_alone_stops_like_new_leg_symptoms() -> None:
    feedback = Feedback(
        pain_before=2,
        pain_after=2,
        completed=True,
        difficulty=Difficulty.right,
        symptoms=[LegSymptom.tingling],
    )
    outcome = recommend(Profile(leg_symptoms=True), feedback, [], START)
    assert outcome.recommendation is Recommendation.stop_and_consult
    assert outcome.urgency is None


def test_acute_moves_up_to_intermediate_and_no_further() -> None:
    easy = Feedback(pain_before=2, pain_after=1, completed=True, difficulty=Difficulty.easy)
    profile, history = Profile(level=Level.intermediate, minutes=15), list[Session]()
    for day in range(8):
        now = START + timedelta(days=2 * day)
        outcome = recommend(profile, easy, history, now)
        assert outcome.next_profile is not None
        assert outcome.next_profile.level is Level.intermediate
        history.append(Session(easy, outcome.recommendation, now))
