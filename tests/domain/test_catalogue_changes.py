"""A snapshot made by applying changes equals one built whole from the same rows: its order,
indexes, feed, term counts and kept indexes (the names, the routines' groups), whatever the
changes."""

from functools import cache

from hypothesis import given, settings
from hypothesis import strategies as st
from seeded import SEED_DIR

from app.content.bundle import load_seed_directory
from app.domain.catalogue import Catalogue, CatalogueEntry, ExerciseQuery, Tombstone
from app.domain.exercise import Exercise, Source
from app.domain.fhir.activity import NameIndex
from app.domain.routines.verdicts import RoutineIndex, build_routine_index, follow_routine_index
from app.domain.vocabulary import Category, Level, Position, Status, TargetArea

COUNTED = ("target_areas", "category", "equipment", "contraindicated_for", "level")
Write = tuple[int, int, int]
"""Which exercise (an index), what becomes of it (0 published as is, 1 published at another
level and position, 2 retired, 3 a draft never published), and its level choice."""


@cache
def seed() -> tuple[list[Exercise], list[Source]]:
    bundle = load_seed_directory(SEED_DIR)
    return list(bundle.exercises), list(bundle.sources)


def varied(exercise: Exercise, choice: int) -> Exercise:
    """Another level, position and area; and its variant links dropped (a family split),
    kept, or joined by a link to another exercise (two families merged)."""
    levels, positions = list(Level), list(Position)
    exercises, _sources = seed()
    links = {0: [], 1: list(exercise.variants)}.get(
        choice % 3, [*exercise.variants, exercises[(7 * choice) % len(exercises)].slug]
    )
    return exercise.model_copy(
        update={
            "level": levels[choice % len(levels)],
            "position": positions[choice % len(positions)],
            "target_areas": [list(TargetArea)[choice % len(TargetArea)]],
            "variants": [slug for slug in links if slug != exercise.slug],
        }
    )


def whole(rows: dict[str, tuple[Exercise, int]], tombstones: dict[str, Tombstone]) -> Catalogue:
    _exercises, sources = seed()
    return Catalogue(
        [(exercise, version) for exercise, version in rows.values()],
        sources,
        max([version for _, version in rows.values()] + [0]),
        revisions={slug: version for slug, (_, version) in rows.items()},
        tombstones=tombstones.values(),
    )


def queries() -> list[ExerciseQuery]:
    found = [ExerciseQuery(limit=100), ExerciseQuery(bed_friendly=True, limit=100)]
    found += [ExerciseQuery(target_areas=frozenset({area}), limit=100) for area in TargetArea]
    found += [ExerciseQuery(categories=frozenset({category}), limit=100) for category in Category]
    found += [ExerciseQuery(levels=frozenset({level}), after_slug="d", limit=3) for level in Level]
    return found


def fragments(catalogue: Catalogue) -> list[str]:
    """Texts a person might search for: common, rare, short, absent, cut from the entries."""
    found = ["stretch", "Knee", "ch", "xyzzy", "lying on your", "  "]
    found += [entry.search_text[7:19] for entry in catalogue.entries[::4]]
    return found


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.lists(st.tuples(st.integers(0, 26), st.integers(0, 3), st.integers(0, 9)), max_size=4),
        min_size=1,
        max_size=12,
    )
)
def test_changed_snapshots_equal_snapshots_built_whole(batches: list[list[Write]]) -> None:
    exercises, sources = seed()
    rows = {exercise.slug: (exercise, 1) for exercise in exercises[:20]}
    tombstones: dict[str, Tombstone] = {}
    current = whole(rows, tombstones)
    current.index_text()
    revision = current.revision
    for field_name in COUNTED:
        current.term_counts(field_name)
    current.kept("names", NameIndex.of, NameIndex.following)
    current.kept("routines", build_routine_index, follow_routine_index)
    for batch in batches:
        revision += 1
        published: dict[str, CatalogueEntry] = {}
        withdrawn: dict[str, Tombstone | None] = {}
        for index, fate, choice in batch:
            exercise = exercises[index]
            slug = exercise.slug
            published.pop(slug, None)
            withdrawn.pop(slug, None)
            if fate <= 1:
                kept = exercise if fate == 0 else varied(exercise, choice)
                rows[slug] = (kept, revision)
                tombstones.pop(slug, None)
                published[slug] = CatalogueEntry(kept, revision, current.sources, revision)
            elif fate == 2 or slug in tombstones or slug in rows:
                rows.pop(slug, None)
                tombstones[slug] = withdrawn[slug] = Tombstone.of(slug, revision, Status.retired)
            else:
                withdrawn[slug] = None
        current = current.changed(revision, published, withdrawn)
        expected = whole(rows, tombstones)
        assert current.text_index.complete
        assert current.slugs == expected.slugs
        assert [(e.slug, e.version, e.revision) for e in current.entries] == [
            (e.slug, e.version, e.revision) for e in expected.entries
        ]
        assert current.tombstones == expected.tombstones
        assert current.feed == expected.feed
        assert current._index == expected._index
        for field_name in COUNTED:
            assert current.term_counts(field_name) == +expected.term_counts(field_name)
        for query in queries():
            found, wanted = current.search(query), expected.search(query)
            assert [e.slug for e in found.entries] == [e.slug for e in wanted.entries]
            assert found.next_after == wanted.next_after
        for fragment in fragments(expected):
            query = ExerciseQuery(text=fragment, limit=100)
            holding = [e.slug for e in expected.entries if fragment.casefold() in e.search_text]
            assert [e.slug for e in current.search(query).entries] == holding
        names = current.kept("names", NameIndex.of, NameIndex.following)
        assert names.names == NameIndex.of(expected).names
        routines = current.kept("routines", build_routine_index, follow_routine_index)
        assert groups_of(routines) == groups_of(build_routine_index(expected))
        assert routines.families == build_routine_index(expected).families
    assert sources


def groups_of(index: RoutineIndex) -> dict[object, tuple[bool, list[str], dict[str, list[str]]]]:
    """Each group's members and members by area, and whether its representative is one."""
    return {
        key: (
            group.representative.slug in group.members,
            group.members,
            {str(area): slugs for area, slugs in group.by_area.items()},
        )
        for key, group in index.groups.items()
    }
