"""The real seeded catalogue, and random profiles over it, shared by the property tests and
worked examples that run the engine without a server or database."""

from functools import cache
from pathlib import Path

from hypothesis import strategies as st

from app.content.bundle import load_seed_directory
from app.domain.catalogue import Catalogue
from app.domain.exercise import Exercise
from app.domain.routines import Phase, Profile, RedFlagId, Sensitivity
from app.domain.vocabulary import Equipment, Level, TargetArea

SEED_DIR = Path(__file__).resolve().parents[1] / "seed"


@cache
def seeded_catalogue() -> Catalogue:
    """`seed/` as the engine sees it, every exercise at version 1."""
    bundle = load_seed_directory(SEED_DIR)
    return Catalogue([(exercise, 1) for exercise in bundle.exercises], bundle.sources, revision=1)


def seeded_exercise(slug: str) -> Exercise:
    return seeded_catalogue().by_slug[slug].exercise


seeds = st.integers(min_value=0, max_value=2**31 - 1)


def random_profiles(
    *,
    most_target_areas: int = 3,
    most_equipment: int | None = None,
    most_minutes: int = 90,
    red_flags: st.SearchStrategy[list[RedFlagId]] = st.just([]),
    cleared_by_clinician: st.SearchStrategy[bool] = st.just(False),
) -> st.SearchStrategy[Profile]:
    """Any person's profile a client can send (no fixed seed: the test draws its own)."""
    return st.builds(
        Profile,
        sensitivity=st.sampled_from(Sensitivity),
        level=st.sampled_from(Level),
        target_areas=st.lists(st.sampled_from(TargetArea), max_size=most_target_areas, unique=True),
        available_equipment=st.lists(
            st.sampled_from(Equipment), max_size=most_equipment, unique=True
        ),
        can_get_on_floor=st.booleans(),
        helper_available=st.booleans(),
        leg_symptoms=st.booleans(),
        minutes=st.integers(min_value=5, max_value=most_minutes),
        include_aerobic=st.booleans(),
        phase=st.sampled_from(Phase),
        red_flags=red_flags,
        cleared_by_clinician=cleared_by_clinician,
        seed=st.none(),
    )
