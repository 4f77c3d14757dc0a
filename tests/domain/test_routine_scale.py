"""A routine's size does not grow with the catalogue: it holds what was chosen, the nearest few
exercises left out and a summary counting the rest; nor does the work of making one, which reads
a bounded number of the catalogue's entries."""

import copy
import random
from collections.abc import Iterator
from functools import cache
from typing import Any

import orjson
import pytest
from seeded import SEED_DIR

from app.content.bundle import ContentBundle, load_seed_directory
from app.domain.catalogue import Catalogue, CatalogueEntry
from app.domain.exercise import Exercise
from app.domain.routines import Profile
from app.domain.routines.engine import all_exclusions, generate_routine
from app.domain.routines.model import EXCLUDED_SHOWN
from app.domain.routines.verdicts import routine_index
from app.domain.vocabulary import Level, Position, TargetArea

SIZES = (27, 300, 3000)
MOST_BYTES = 40_000
"""A routine's JSON stays under this at any catalogue size (its items are bounded by the time
asked, its exclusions by `EXCLUDED_SHOWN`); a larger catalogue may fill a routine a small one
could not, so it is compared with the mid-size one, not the seed's."""
PROFILES: list[dict[str, Any]] = [
    {},
    {"sensitivity": "flexion_sensitive", "target_areas": ["lower_back", "hamstrings"]},
    {
        "sensitivity": "none",
        "level": "advanced",
        "phase": "maintenance",
        "minutes": 60,
        "available_equipment": ["mat", "wall", "bed", "strap", "bicycle"],
        "include_aerobic": True,
        "target_areas": ["abdominals"],
    },
    {"sensitivity": "extension_sensitive", "can_get_on_floor": False, "leg_symptoms": True},
]


@cache
def bundle() -> ContentBundle:
    return load_seed_directory(SEED_DIR)


def synthetic_exercises(count: int) -> list[Exercise]:
    """`count` exercises: the seeded ones, then copies renamed per group, each with a random
    level, position and target areas (links kept inside the group), so flags still hold."""
    seeded = sorted(bundle().exercises, key=lambda exercise: exercise.slug)
    slugs = {exercise.slug for exercise in seeded}
    draw = random.Random(count)
    made: list[Exercise] = []
    for index in range(count):
        group, base = divmod(index, len(seeded))
        document = seeded[base].model_dump(mode="json")
        if group:
            suffix = f"-s{group}"

            def inside(links: list[str], suffix: str = suffix) -> list[str]:
                return [f"{slug}{suffix}" for slug in links if slug in slugs]

            document |= {
                "slug": f"{document['slug']}{suffix}",
                "name": f"{document['name']} ({group})",
                "level": draw.choice(list(Level)).value,
                "position": draw.choice(list(Position)).value,
                "target_areas": [a.value for a in draw.sample(list(TargetArea), k=2)],
                "progressions": {
                    "easier": inside(document["progressions"]["easier"]),
                    "harder": inside(document["progressions"]["harder"]),
                },
                "variants": inside(document["variants"]),
            }
        made.append(Exercise.model_validate(document))
    return made


@pytest.fixture(scope="module")
def catalogues() -> dict[int, Catalogue]:
    every = synthetic_exercises(max(SIZES))
    return {
        size: Catalogue([(exercise, 1) for exercise in every[:size]], bundle().sources, 1)
        for size in SIZES
    }


@pytest.mark.parametrize("fields", PROFILES)
def test_a_routine_stays_the_same_size_as_the_catalogue_grows(
    catalogues: dict[int, Catalogue], fields: dict[str, Any]
) -> None:
    profile = Profile.model_validate(fields)
    sizes = {}
    for size, catalogue in catalogues.items():
        plan = generate_routine(catalogue, profile, 7)
        assert len(plan.excluded) == EXCLUDED_SHOWN
        assert plan.excluded_summary.total == size - len(plan.items)
        sizes[size] = len(orjson.dumps(plan.model_dump(mode="json")))
    assert max(sizes.values()) <= MOST_BYTES, sizes
    assert sizes[3000] <= 1.5 * sizes[300], sizes


def test_the_nearest_exclusions_match_the_target_areas_first(
    catalogues: dict[int, Catalogue],
) -> None:
    profile = Profile.model_validate(PROFILES[1])
    catalogue = catalogues[3000]
    plan = generate_routine(catalogue, profile, 7)
    asked = set(profile.target_areas)
    overlaps = [
        len(asked & set(catalogue.by_slug[exclusion.slug].exercise.target_areas))
        for exclusion in plan.excluded
    ]
    assert overlaps == sorted(overlaps, reverse=True)
    assert overlaps[0] == len(asked)


def test_the_full_list_pages_through_every_exercise_left_out(
    catalogues: dict[int, Catalogue],
) -> None:
    profile = Profile.model_validate(PROFILES[2])
    catalogue = catalogues[300]
    plan = generate_routine(catalogue, profile, 7)
    chosen = {item.exercise.slug for item in plan.items}
    pages, after = [], None
    while True:
        page, after = all_exclusions(catalogue, profile, 7, after, 50)
        pages += page
        if after is None:
            break
    assert [exclusion.slug for exclusion in pages] == [
        slug for slug in catalogue.slugs if slug not in chosen
    ]
    by_slug = {exclusion.slug: exclusion for exclusion in pages}
    assert all(by_slug[shown.slug] == shown for shown in plan.excluded)
    assert all(exclusion.reasons for exclusion in pages)


def test_the_same_seed_gives_the_same_routine_on_a_large_catalogue(
    catalogues: dict[int, Catalogue],
) -> None:
    profile = Profile.model_validate(PROFILES[2])
    first = generate_routine(catalogues[3000], profile, 11)
    assert generate_routine(catalogues[3000], profile, 11) == first


class CountedReads(dict[str, CatalogueEntry]):
    """A snapshot's `by_slug` that counts the entries read through it."""

    reads = 0

    def __getitem__(self, slug: str) -> CatalogueEntry:
        self.reads += 1
        return super().__getitem__(slug)

    def get(self, slug: str, default: Any = None) -> Any:
        self.reads += 1
        return super().get(slug, default)


class UnwalkedEntries(list[CatalogueEntry]):
    """A snapshot's `entries` that refuses to be walked (its length may be read)."""

    def __iter__(self) -> Iterator[CatalogueEntry]:
        raise AssertionError("generation walked the whole catalogue")


MOST_ENTRIES_READ = 1_500
"""Entries one generation may read whatever the catalogue's size: the candidates drawn for each
need, the nearest exclusions weighed, the exercises a sentence names."""


@pytest.mark.parametrize("fields", PROFILES)
def test_generation_reads_a_bounded_number_of_entries_as_the_catalogue_grows(
    catalogues: dict[int, Catalogue], fields: dict[str, Any]
) -> None:
    profile = Profile.model_validate(fields)
    reads = {}
    for size in (300, 3000):
        routine_index(catalogues[size])  # kept by the snapshot, built once (not per routine)
        counted = copy.copy(catalogues[size])
        counted.by_slug = CountedReads(catalogues[size].by_slug)
        counted.entries = UnwalkedEntries(catalogues[size].entries)
        plan = generate_routine(counted, profile, 7)
        assert plan == generate_routine(catalogues[size], profile, 7)
        reads[size] = counted.by_slug.reads
    assert max(reads.values()) <= MOST_ENTRIES_READ, reads
