"""An immutable, indexed snapshot of the published catalogue, and the filtering rules over it.

Filtering happens here, in memory, because the catalogue is small and read-mostly: a request walks
the narrowest ready index from the cursor onwards and stops at limit + 1 matches. Each entry keeps
its public JSON, serialised once on first use, so a list response is a join of ready bytes.
"""

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import orjson

from app.domain.exercise import Exercise, Source
from app.domain.vocabulary import (
    Category,
    Equipment,
    Flag,
    Level,
    Position,
    SpinalMotion,
    Status,
    SyncChange,
    TargetArea,
)

LIST_FIELDS: tuple[str, ...] = (
    "slug",
    "name",
    "aliases",
    "summary",
    "category",
    "level",
    "position",
    "spinal_motion",
    "target_areas",
    "equipment",
    "contraindications",
    "bed_friendly",
    "needs_helper",
)


@dataclass(frozen=True)
class ExerciseQuery:
    """A list request. Each set means "any of these"; different fields all apply.

    `safe_for` is the exception, because it is a safety filter: with several flags, an exercise
    contraindicated for any of them is left out.
    """

    target_areas: frozenset[TargetArea] = frozenset()
    categories: frozenset[Category] = frozenset()
    positions: frozenset[Position] = frozenset()
    levels: frozenset[Level] = frozenset()
    max_level: Level | None = None
    spinal_motions: frozenset[SpinalMotion] = frozenset()
    equipment: frozenset[Equipment] = frozenset()
    available_equipment: frozenset[Equipment] | None = None
    safe_for: frozenset[Flag] = frozenset()
    bed_friendly: bool | None = None
    needs_helper: bool | None = None
    text: str | None = None
    after_slug: str | None = None
    limit: int = 20


@dataclass(eq=False)
class CatalogueEntry:
    exercise: Exercise
    version: int
    sources: dict[str, Source] = field(repr=False)

    def __post_init__(self) -> None:
        exercise = self.exercise
        self.slug = exercise.slug
        self.target_areas = frozenset(exercise.target_areas)
        self.equipment_used = frozenset(exercise.equipment) | frozenset(exercise.optional_equipment)
        self.equipment_required = frozenset(exercise.equipment)
        self.contraindicated_for = exercise.contraindicated_for
        self.level_rank = exercise.level.rank
        self.search_text = " ".join([exercise.name, *exercise.aliases, exercise.summary]).casefold()

    def summary(self) -> dict[str, Any]:
        document = self.exercise.model_dump(mode="json", include=set(LIST_FIELDS))
        return {name: document[name] for name in LIST_FIELDS}

    def detail(self) -> dict[str, Any]:
        document = self.exercise.model_dump(mode="json")
        document["version"] = self.version
        document["citations"] = [
            self.cited(citation["source"], citation.get("note"))
            for citation in document["citations"]
        ]
        return document

    def cited(self, source_id: str, note: str | None) -> dict[str, Any]:
        """A citation as the public record shows it: the source's details beside its id."""
        source = self.sources[source_id]
        return {
            "source": source_id,
            "title": source.title,
            "publisher_kind": source.publisher_kind.value,
            "seed_file": source.seed_file,
            "note": note,
        }

    @cached_property
    def summary_json(self) -> bytes:
        return orjson.dumps(self.summary())

    @cached_property
    def detail_json(self) -> bytes:
        return orjson.dumps(self.detail())

    def matches(self, query: ExerciseQuery) -> bool:
        exercise = self.exercise
        if query.target_areas and query.target_areas.isdisjoint(self.target_areas):
            return False
        if query.categories and exercise.category not in query.categories:
            return False
        if query.positions and exercise.position not in query.positions:
            return False
        if query.levels and exercise.level not in query.levels:
            return False
        if query.max_level is not None and self.level_rank > query.max_level.rank:
            return False
        if query.spinal_motions and exercise.spinal_motion not in query.spinal_motions:
            return False
        if query.equipment and query.equipment.isdisjoint(self.equipment_used):
            return False
        if query.available_equipment is not None and not (
            self.equipment_required <= query.available_equipment
        ):
            return False
        if query.safe_for and not query.safe_for.isdisjoint(self.contraindicated_for):
            return False
        if query.bed_friendly is not None and exercise.bed_friendly != query.bed_friendly:
            return False
        if query.needs_helper is not None and exercise.needs_helper != query.needs_helper:
            return False
        return not (query.text and query.text.casefold() not in self.search_text)


@dataclass(frozen=True)
class Page:
    entries: list[CatalogueEntry]
    next_after: str | None


IndexKey = tuple[str, str]


@dataclass(frozen=True)
class Tombstone:
    """An exercise that was published and no longer is: what a syncing client must drop."""

    slug: str
    revision: int
    """The catalogue revision of its last change."""
    change: SyncChange

    @classmethod
    def of(cls, slug: str, revision: int, status: str) -> "Tombstone":
        """The tombstone of an exercise now in `status` (anything but published)."""
        change = SyncChange.retired if status == Status.retired else SyncChange.unpublished
        return cls(slug, revision, change)


class Catalogue:
    """The published exercises at one catalogue revision, ordered by slug. Drafts and retired
    exercises given to it are left out, so nothing read from it (routines included) offers them:
    the `not-published` rule of the rules registry holds here."""

    def __init__(
        self,
        exercises: Iterable[tuple[Exercise, int]],
        sources: Iterable[Source],
        revision: int = 0,
        *,
        revisions: Mapping[str, int] | None = None,
        tombstones: Iterable[Tombstone] = (),
    ) -> None:
        self.revision = revision
        self.revisions: Mapping[str, int] = revisions or {}
        """Each published exercise's last-change revision (what the changes feed orders by)."""
        self.tombstones = list(tombstones)
        self.sources: dict[str, Source] = {source.id: source for source in sources}
        self.entries: list[CatalogueEntry] = sorted(
            (
                CatalogueEntry(exercise, version, self.sources)
                for exercise, version in exercises
                if exercise.status is Status.published
            ),
            key=lambda entry: entry.slug,
        )
        self.slugs = [entry.slug for entry in self.entries]
        self.by_slug = {entry.slug: entry for entry in self.entries}
        self._index = self._build_index()
        self._term_counts: dict[str, Counter[str]] = {}

    def _build_index(self) -> dict[IndexKey, list[int]]:
        index: dict[IndexKey, list[int]] = {}
        for position, entry in enumerate(self.entries):
            exercise = entry.exercise
            keys: list[IndexKey] = [
                ("category", exercise.category),
                ("position", exercise.position),
                ("level", exercise.level),
                ("spinal_motion", exercise.spinal_motion),
                ("bed_friendly", str(exercise.bed_friendly)),
                ("needs_helper", str(exercise.needs_helper)),
            ]
            keys += [("target_area", area) for area in entry.target_areas]
            keys += [("equipment", item) for item in entry.equipment_used]
            for key in keys:
                index.setdefault(key, []).append(position)
        return index

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, slug: str) -> CatalogueEntry | None:
        return self.by_slug.get(slug)

    def search(self, query: ExerciseQuery) -> Page:
        candidates = self._narrowest_candidates(query)
        start = 0 if query.after_slug is None else bisect_right(self.slugs, query.after_slug)
        found: list[CatalogueEntry] = []
        entries = self.entries
        for position in candidates[bisect_left(candidates, start) :]:
            entry = entries[position]
            if entry.matches(query):
                if len(found) == query.limit:
                    return Page(found, found[-1].slug)
                found.append(entry)
        return Page(found, None)

    def _narrowest_candidates(self, query: ExerciseQuery) -> Sequence[int]:
        groups: list[tuple[str, Iterable[str]]] = [
            ("target_area", query.target_areas),
            ("category", query.categories),
            ("position", query.positions),
            ("level", query.levels),
            ("spinal_motion", query.spinal_motions),
            ("equipment", query.equipment),
        ]
        if query.bed_friendly is not None:
            groups.append(("bed_friendly", [str(query.bed_friendly)]))
        if query.needs_helper is not None:
            groups.append(("needs_helper", [str(query.needs_helper)]))
        best: Sequence[int] = range(len(self.entries))
        for name, values in groups:
            lists = [self._index.get((name, value), []) for value in values]
            if not lists:
                continue
            size = sum(len(items) for items in lists)
            if size < len(best):
                best = lists[0] if len(lists) == 1 else sorted(set().union(*lists))
        return best

    def progression_chain(self, slug: str) -> list[CatalogueEntry]:
        """Every exercise linked to `slug` by easier/harder steps, easiest first.

        Links form a directed acyclic graph (content validation refuses cycles); the chain is its
        topological order, ties broken by level and then slug so the answer is stable.
        """
        component = self._linked_component(slug)
        harder_of = {
            member: [s for s in self.by_slug[member].exercise.progressions.harder if s in component]
            for member in component
        }
        incoming = Counter(s for targets in harder_of.values() for s in targets)
        ready = sorted((m for m in component if incoming[m] == 0), key=self._chain_key)
        ordered: list[str] = []
        while ready:
            current = ready.pop(0)
            ordered.append(current)
            for target in harder_of[current]:
                incoming[target] -= 1
                if incoming[target] == 0:
                    ready.append(target)
            ready.sort(key=self._chain_key)
        return [self.by_slug[member] for member in ordered]

    def _chain_key(self, slug: str) -> tuple[int, str]:
        return (self.by_slug[slug].level_rank, slug)

    def _linked_component(self, slug: str) -> set[str]:
        seen = {slug}
        pending = [slug]
        while pending:
            progressions = self.by_slug[pending.pop()].exercise.progressions
            for neighbour in [*progressions.easier, *progressions.harder]:
                if neighbour in self.by_slug and neighbour not in seen:
                    seen.add(neighbour)
                    pending.append(neighbour)
        return seen

    def term_counts(self, field_name: str) -> Counter[str]:
        """How many published exercises use each term of a field (a vocabulary field, or
        `contraindicated_for` or `cited_sources`); counted once per snapshot."""
        counts = self._term_counts.get(field_name)
        if counts is None:
            counts = Counter()
            for entry in self.entries:
                value = getattr(entry.exercise, field_name)
                if field_name == "equipment":
                    counts.update(entry.equipment_used)
                elif isinstance(value, list | frozenset):
                    counts.update(value)
                else:
                    counts[value] += 1
            self._term_counts[field_name] = counts
        return counts
