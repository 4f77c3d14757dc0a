"""An immutable, indexed snapshot of the published catalogue, and the filtering rules over it.

Filtering happens here, in memory, because the catalogue is read-mostly: a request walks the
narrowest ready index (a filter's postings, or the trigram index's candidates for a rare `q`)
from the cursor onwards and stops at limit + 1 matches. An entry keeps its stored JSON, packed,
and the facts the filters read (`exercise_facts`); the public JSON of the exercises read most is
kept ready in bounded caches, so a list response is mostly a join of ready bytes.
"""

import sys
import threading
from bisect import bisect_left, bisect_right, insort
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import orjson

from app.domain.exercise import Exercise, Source
from app.domain.exercise_facts import (
    KNOWN_FIELDS,
    PLAIN,
    DocumentCodec,
    Dose,
    UnknownShapeError,
    chosen_dose,
    cited_sources_of,
    dose_of,
    members,
    search_text_of,
    shared,
)
from app.domain.figure.illustrations import Drawings, illustration_links
from app.domain.media import shown_media
from app.domain.text_index import TextIndex, trigrams
from app.domain.vocabulary import (
    Category,
    Equipment,
    Flag,
    Impact,
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
    "illustrations",
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


CATEGORIES = members(Category)
LEVELS = members(Level)
POSITIONS = members(Position)
SPINAL_MOTIONS = members(SpinalMotion)
IMPACTS = members(Impact)
TARGET_AREAS = members(TargetArea)
EQUIPMENT = members(Equipment)
FLAGS = members(Flag)

ENTRY_SLOTS = (
    "slug",
    "name",
    "version",
    "sources",
    "revision",
    "updated_at",
    "category",
    "level",
    "position",
    "spinal_motion",
    "impact",
    "target_areas",
    "equipment",
    "equipment_used",
    "equipment_required",
    "contraindicated_for",
    "bed_friendly",
    "needs_helper",
    "tensions_sciatic_nerve",
    "easier",
    "harder",
    "variants",
    "cited_sources",
    "dose",
    "search_text",
    "media_hashes",
    "_packed",
    "_codec",
)


class CatalogueEntry:
    """One published exercise of a snapshot: its packed stored JSON and the facts filters, search
    and routines read (`exercise_facts`), shared with every snapshot it stays unchanged in. The
    `Exercise` model, and the JSON a request returns, are made from the packed JSON when asked
    for, and kept in bounded caches (`KEPT_MODELS`, `KEPT_JSON`), not on the entry."""

    __slots__ = ENTRY_SLOTS

    slug: str
    name: str
    version: int
    sources: dict[str, Source]
    revision: int
    """The catalogue revision of the exercise's last change (what the changes feed orders by)."""
    updated_at: datetime | None
    """When this version was written (FHIR's meta.lastUpdated); None where it is not known."""
    category: Category
    level: Level
    position: Position
    spinal_motion: SpinalMotion
    impact: Impact
    target_areas: frozenset[TargetArea]
    equipment: tuple[Equipment, ...]
    """What it needs, in the record's order."""
    equipment_used: frozenset[Equipment]
    """What it needs or may use."""
    equipment_required: frozenset[Equipment]
    contraindicated_for: frozenset[Flag]
    bed_friendly: bool
    needs_helper: bool
    tensions_sciatic_nerve: bool
    easier: tuple[str, ...]
    harder: tuple[str, ...]
    variants: tuple[str, ...]
    cited_sources: tuple[str, ...]
    dose: Dose
    search_text: str
    media_hashes: tuple[str, ...]
    """The SHA-256 of each attached image's file: what its URL may serve."""
    _packed: bytes
    _codec: DocumentCodec

    def __init__(
        self,
        exercise: Exercise,
        version: int,
        sources: dict[str, Source],
        revision: int = 0,
        updated_at: datetime | None = None,
    ) -> None:
        document = exercise.model_dump(mode="json")
        self._take(document, orjson.dumps(document), PLAIN)
        self._place(version, sources, revision, updated_at)
        _MODELS.put(self, exercise)

    @classmethod
    def stored(
        cls,
        document_json: bytes,
        version: int,
        sources: dict[str, Source],
        revision: int = 0,
        updated_at: datetime | None = None,
        codec: DocumentCodec = PLAIN,
    ) -> "CatalogueEntry":
        """An entry of a stored document, read without building its model (UnknownShapeError
        when its facts cannot be read; see `exercise_facts`)."""
        entry = object.__new__(cls)
        entry._take(orjson.loads(document_json), document_json, codec)
        entry._place(version, sources, revision, updated_at)
        return entry

    def _place(
        self, version: int, sources: dict[str, Source], revision: int, updated_at: datetime | None
    ) -> None:
        self.version = version
        self.sources = sources
        self.revision = revision
        self.updated_at = updated_at

    def _take(self, document: Any, document_json: bytes, codec: DocumentCodec) -> None:
        """The facts of a stored document (as `Exercise.model_dump(mode="json")` gives it,
        defaults possibly left out), and the document itself, packed."""
        if not isinstance(document, dict) or not KNOWN_FIELDS.issuperset(document):
            raise UnknownShapeError("not an exercise document of this code's fields")
        try:
            self._read(document)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as error:
            raise UnknownShapeError(str(error)) from error
        self._packed = codec.pack(document_json)
        self._codec = codec

    def _read(self, document: dict[str, Any]) -> None:
        progressions = document.get("progressions") or {}
        equipment = tuple(EQUIPMENT[item] for item in document.get("equipment", ()))
        optional = frozenset(EQUIPMENT[item] for item in document.get("optional_equipment", ()))
        self.slug = sys.intern(document["slug"])
        self.name = document["name"]
        self.category = CATEGORIES[document["category"]]
        self.level = LEVELS[document["level"]]
        self.position = POSITIONS[document["position"]]
        self.spinal_motion = SPINAL_MOTIONS[document["spinal_motion"]]
        self.impact = IMPACTS[document.get("impact", Impact.low.value)]
        self.target_areas = shared(frozenset(TARGET_AREAS[a] for a in document["target_areas"]))
        self.equipment = shared(equipment)
        self.equipment_required = shared(frozenset(equipment))
        self.equipment_used = shared(self.equipment_required | optional)
        self.contraindicated_for = shared(
            frozenset(FLAGS[item["flag"]] for item in document["contraindications"])
        )
        self.bed_friendly = bool(document.get("bed_friendly", False))
        self.needs_helper = bool(document.get("needs_helper", False))
        self.tensions_sciatic_nerve = bool(document.get("tensions_sciatic_nerve", False))
        self.easier = tuple(sys.intern(slug) for slug in progressions.get("easier", ()))
        self.harder = tuple(sys.intern(slug) for slug in progressions.get("harder", ()))
        self.variants = tuple(sys.intern(slug) for slug in document.get("variants", ()))
        self.cited_sources = cited_sources_of(document)
        self.dose = dose_of(chosen_dose(document["dosages"]))
        self.search_text = search_text_of(
            document["name"], document.get("aliases", []), document["summary"]
        )
        self.media_hashes = tuple(str(item["sha256"]) for item in document.get("media", ()))

    def citing(self, sources: dict[str, Source]) -> "CatalogueEntry":
        """The same exercise citing changed sources."""
        entry = object.__new__(CatalogueEntry)
        for name in ENTRY_SLOTS:
            setattr(entry, name, getattr(self, name))
        entry.sources = sources
        return entry

    @property
    def document_json(self) -> bytes:
        """The stored document, as it was read."""
        return self._codec.unpack(self._packed)

    def document(self) -> dict[str, Any]:
        """The stored document, parsed but not validated again (nor kept): for the few fields a
        routine shows, which need not make the whole model."""
        document: dict[str, Any] = orjson.loads(self.document_json)
        return document

    @property
    def exercise(self) -> Exercise:
        """The whole model, made from the stored document on first use (kept in a bounded
        cache: read it for what a request returns, not to filter)."""
        return _MODELS.get_or_make(self, self._model)

    def _model(self) -> Exercise:
        return Exercise.model_validate_json(self.document_json)

    @property
    def level_rank(self) -> int:
        return self.level.rank

    def index_keys(self) -> list["IndexKey"]:
        """The filter index postings this entry belongs to."""
        keys: list[IndexKey] = [
            ("category", self.category),
            ("position", self.position),
            ("level", self.level),
            ("spinal_motion", self.spinal_motion),
            ("bed_friendly", str(self.bed_friendly)),
            ("needs_helper", str(self.needs_helper)),
        ]
        keys += [("target_area", area) for area in self.target_areas]
        keys += [("equipment", item) for item in self.equipment_used]
        return keys

    def terms(self, field_name: str) -> Iterable[str]:
        """The terms of a field this entry counts for (see `Catalogue.term_counts`)."""
        if field_name == "equipment":
            return self.equipment_used
        if field_name in ENTRY_SLOTS:
            value = getattr(self, field_name)
        else:
            value = getattr(self.exercise, field_name)
        return value if isinstance(value, list | tuple | frozenset) else (value,)

    def summary(self) -> dict[str, Any]:
        document = self.exercise.model_dump(mode="json", include=set(LIST_FIELDS))
        document["illustrations"] = self.illustrations
        return {name: document[name] for name in LIST_FIELDS}

    def detail(self) -> dict[str, Any]:
        return self.detail_of(self.exercise)

    def detail_of(self, model: Exercise) -> dict[str, Any]:
        """The public record of this entry's exercise, `model`: the document with its version,
        illustrations, media links and each citation's source."""
        document = model.model_dump(mode="json")
        document["version"] = self.version
        document["illustrations"] = illustration_links(model, self.version)
        document["media"] = shown_media(model.media)
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

    @property
    def illustrations(self) -> list[dict[str, Any]]:
        return illustration_links(self.exercise, self.version)

    @property
    def drawings(self) -> Drawings:
        return _DRAWINGS.get_or_make(self, lambda: Drawings(self.exercise))

    @property
    def summary_json(self) -> bytes:
        return _SUMMARIES.get_or_make(self, lambda: orjson.dumps(self.summary()))

    @property
    def detail_json(self) -> bytes:
        return _DETAILS.get_or_make(self, lambda: orjson.dumps(self.detail()))

    def detail_json_passing(self) -> bytes:
        """The detail JSON for a view that passes over every exercise (the download, the changes
        feed): the cached bytes if a read made them, else made without keeping them (nor the
        model), so such a view never leaves a second copy of the catalogue behind."""
        cached = _DETAILS.peek(self)
        if cached is not None:
            return cached
        model = _MODELS.peek(self)
        if model is None:
            model = self._model()
        return orjson.dumps(self.detail_of(model))

    def matches(self, query: ExerciseQuery) -> bool:
        if query.target_areas and query.target_areas.isdisjoint(self.target_areas):
            return False
        if query.categories and self.category not in query.categories:
            return False
        if query.positions and self.position not in query.positions:
            return False
        if query.levels and self.level not in query.levels:
            return False
        if query.max_level is not None and self.level.rank > query.max_level.rank:
            return False
        if query.spinal_motions and self.spinal_motion not in query.spinal_motions:
            return False
        if query.equipment and query.equipment.isdisjoint(self.equipment_used):
            return False
        if query.available_equipment is not None and not (
            self.equipment_required <= query.available_equipment
        ):
            return False
        if query.safe_for and not query.safe_for.isdisjoint(self.contraindicated_for):
            return False
        if query.bed_friendly is not None and self.bed_friendly != query.bed_friendly:
            return False
        if query.needs_helper is not None and self.needs_helper != query.needs_helper:
            return False
        return not (query.text and query.text.casefold() not in self.search_text)

    def __repr__(self) -> str:
        return f"CatalogueEntry({self.slug!r}, version={self.version})"


V = TypeVar("V")


class KeptPerEntry(Generic[V]):
    """A bounded, locked cache of something made from an entry (its model, its JSON): requests
    in the event loop and generation in worker threads share it."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._kept: OrderedDict[CatalogueEntry, V] = OrderedDict()
        self._lock = threading.Lock()

    def peek(self, entry: CatalogueEntry) -> V | None:
        with self._lock:
            return self._kept.get(entry)

    def put(self, entry: CatalogueEntry, value: V) -> None:
        with self._lock:
            self._kept[entry] = value
            self._kept.move_to_end(entry)
            if len(self._kept) > self._size:
                self._kept.popitem(last=False)

    def get_or_make(self, entry: CatalogueEntry, make: Callable[[], V]) -> V:
        with self._lock:
            value = self._kept.get(entry)
            if value is not None:
                self._kept.move_to_end(entry)
                return value
        value = make()
        self.put(entry, value)
        return value


KEPT_MODELS = 1024
"""Exercise models kept made (about 8.6 KB each): a routine reads those it chose and shows."""
KEPT_JSON = 4096
"""List and detail JSON kept per kind (0.5-3 KB each): the pages and exercises read most."""

_MODELS: KeptPerEntry[Exercise] = KeptPerEntry(KEPT_MODELS)
_SUMMARIES: KeptPerEntry[bytes] = KeptPerEntry(KEPT_JSON)
_DETAILS: KeptPerEntry[bytes] = KeptPerEntry(KEPT_JSON)
_DRAWINGS: KeptPerEntry[Drawings] = KeptPerEntry(256)


@dataclass(frozen=True)
class Page:
    entries: list[CatalogueEntry]
    next_after: str | None


IndexKey = tuple[str, str]
T = TypeVar("T")
Follow = Callable[[T, "Catalogue"], T]
"""How a kept structure is carried to the following snapshot."""


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
    the `not-published` rule of the rules registry holds here.

    A snapshot never changes. An edit makes the next one with `changed`, which shares every
    untouched entry and index posting with this one and works only on the changed rows."""

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
        self.sources: dict[str, Source] = {source.id: source for source in sources}
        last_changes = revisions or {}
        self._assemble(
            [
                CatalogueEntry(exercise, version, self.sources, last_changes.get(slug, revision))
                for exercise, version in exercises
                if exercise.status is Status.published
                for slug in (exercise.slug,)
            ],
            {tombstone.slug: tombstone for tombstone in tombstones},
        )

    def _assemble(self, entries: list[CatalogueEntry], tombstones: dict[str, Tombstone]) -> None:
        entries.sort(key=lambda entry: entry.slug)
        self.entries = entries
        self.slugs = [entry.slug for entry in entries]
        self.by_slug = {entry.slug: entry for entry in entries}
        self.tombstones = tombstones
        """Exercises published once and no longer, by slug."""
        self._index: dict[IndexKey, list[str]] = {}
        for entry in entries:
            for key in entry.index_keys():
                self._index.setdefault(key, []).append(entry.slug)
        self.feed: list[tuple[int, str]] = sorted(
            [(entry.revision, entry.slug) for entry in entries]
            + [(tombstone.revision, tombstone.slug) for tombstone in tombstones.values()]
        )
        """Every exercise a client may hold, as (revision of its last change, slug), in order."""
        self.text_index = TextIndex()
        self._term_counts: dict[str, Counter[str]] = {}
        self._kept: dict[str, tuple[Any, Follow[Any]]] = {}
        self.changed_slugs: frozenset[str] | None = None
        """What differs from the snapshot this one was made from (None: built whole)."""
        self.previous_revision: int | None = None

    def changed(
        self,
        revision: int,
        published: Mapping[str, CatalogueEntry],
        withdrawn: Mapping[str, Tombstone | None],
    ) -> "Catalogue":
        """The next snapshot: `published` added or replaced, `withdrawn` left out (with their
        tombstone, or forgotten for None: a draft never published).

        The work is proportional to the changed rows: their entries, their index postings and
        feed positions; the tables of the rest are shared or copied as pointers. A change to most
        of the catalogue (an import, the first load) is built whole instead."""
        changed = published.keys() | withdrawn.keys()
        if len(changed) > max(64, len(self.entries) // 8):
            return self._rebuilt(revision, published, withdrawn)
        following = object.__new__(Catalogue)
        following.revision = revision
        following.sources = self.sources
        before = {slug: self.by_slug[slug] for slug in changed if slug in self.by_slug}
        by_slug = dict(self.by_slug)
        for slug in withdrawn:
            by_slug.pop(slug, None)
        by_slug.update(published)
        following.by_slug = by_slug
        following.slugs, following.entries = self._changed_order(by_slug, published, before)
        following.tombstones = self._changed_tombstones(published, withdrawn)
        following._index = self._changed_index(before, published)
        following.feed = self._changed_feed(before, published, withdrawn)
        following.text_index = self.text_index
        for slug, entry in published.items():
            old = before.get(slug)
            self.text_index.post(slug, entry.search_text, trigrams(old.search_text) if old else ())
        following._term_counts = {
            field_name: changed_counts(counts, field_name, before.values(), published.values())
            for field_name, counts in self._term_counts.items()
        }
        following.changed_slugs = frozenset(changed)
        following.previous_revision = self.revision
        following._kept = {
            name: (follow(value, following), follow) for name, (value, follow) in self._kept.items()
        }
        return following

    def kept(self, name: str, build: Callable[["Catalogue"], T], follow: Follow[T]) -> T:
        """A structure derived from this snapshot (an index), built on first use; every
        following snapshot made by `changed` carries it on through `follow(value, following)`,
        which reads `following.changed_slugs`. That runs where the snapshot is made (the
        refresh's worker thread), so no request rebuilds it after an edit."""
        held = self._kept.get(name)
        if held is None:
            held = self._kept[name] = (build(self), follow)
        value: T = held[0]
        return value

    def _rebuilt(
        self,
        revision: int,
        published: Mapping[str, CatalogueEntry],
        withdrawn: Mapping[str, Tombstone | None],
    ) -> "Catalogue":
        rebuilt = object.__new__(Catalogue)
        rebuilt.revision = revision
        rebuilt.sources = self.sources
        entries = {**self.by_slug, **published}
        tombstones = {**self.tombstones}
        for slug, tombstone in withdrawn.items():
            entries.pop(slug, None)
            tombstones.pop(slug, None)
            if tombstone is not None:
                tombstones[slug] = tombstone
        for slug in published:
            tombstones.pop(slug, None)
        rebuilt._assemble(list(entries.values()), tombstones)
        return rebuilt

    def with_sources(self, sources: Iterable[Source]) -> "Catalogue":
        """The same exercises citing changed sources (rare: every entry is made again)."""
        remade = object.__new__(Catalogue)
        remade.revision = self.revision
        remade.sources = {source.id: source for source in sources}
        remade._assemble(
            [entry.citing(remade.sources) for entry in self.entries], dict(self.tombstones)
        )
        return remade

    def _changed_order(
        self,
        by_slug: dict[str, CatalogueEntry],
        published: Mapping[str, CatalogueEntry],
        before: Mapping[str, CatalogueEntry],
    ) -> tuple[list[str], list[CatalogueEntry]]:
        """The slugs and entries in slug order: the same slugs share the list of slugs."""
        gone = {slug for slug in before if slug not in by_slug}
        added = [slug for slug in published if slug not in before]
        if not gone and not added:
            entries = list(self.entries)
            for slug, entry in published.items():
                entries[bisect_left(self.slugs, slug)] = entry
            return self.slugs, entries
        kept = [slug for slug in self.slugs if slug not in gone] if gone else list(self.slugs)
        slugs = sorted(kept + added)  # two sorted runs: a linear merge
        return slugs, [by_slug[slug] for slug in slugs]

    def _changed_tombstones(
        self, published: Mapping[str, CatalogueEntry], withdrawn: Mapping[str, Tombstone | None]
    ) -> dict[str, Tombstone]:
        touched = (published.keys() | withdrawn.keys()) & self.tombstones.keys()
        if not touched and all(tombstone is None for tombstone in withdrawn.values()):
            return self.tombstones
        tombstones = dict(self.tombstones)
        for slug in touched:
            del tombstones[slug]
        tombstones.update(
            {slug: tombstone for slug, tombstone in withdrawn.items() if tombstone is not None}
        )
        return tombstones

    def _changed_index(
        self, before: Mapping[str, CatalogueEntry], after: Mapping[str, CatalogueEntry]
    ) -> dict[IndexKey, list[str]]:
        """Only the postings an entry leaves or joins are copied and changed."""
        index = dict(self._index)
        copied: set[IndexKey] = set()

        def posting(key: IndexKey) -> list[str]:
            if key not in copied:
                copied.add(key)
                index[key] = list(index.get(key, ()))
            return index[key]

        for slug in before.keys() | after.keys():
            old = set(before[slug].index_keys()) if slug in before else set()
            new = set(after[slug].index_keys()) if slug in after else set()
            for key in old - new:
                slugs = posting(key)
                del slugs[bisect_left(slugs, slug)]
            for key in new - old:
                insort(posting(key), slug)
        return {key: slugs for key, slugs in index.items() if slugs}

    def _changed_feed(
        self,
        before: Mapping[str, CatalogueEntry],
        published: Mapping[str, CatalogueEntry],
        withdrawn: Mapping[str, Tombstone | None],
    ) -> list[tuple[int, str]]:
        """Each changed exercise leaves its place and takes one at the end (its new revision)."""
        feed = list(self.feed)
        left = [(entry.revision, slug) for slug, entry in before.items()]
        left += [
            (self.tombstones[slug].revision, slug)
            for slug in published.keys() | withdrawn.keys()
            if slug in self.tombstones
        ]
        for position in left:
            del feed[bisect_left(feed, position)]
        taken = [(entry.revision, slug) for slug, entry in published.items()]
        taken += [(t.revision, slug) for slug, t in withdrawn.items() if t is not None]
        taken.sort()
        if taken and feed and taken[0] < feed[-1]:
            return sorted(feed + taken)  # two sorted runs: a linear merge
        return feed + taken  # changes land after every earlier revision

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, slug: str) -> CatalogueEntry | None:
        return self.by_slug.get(slug)

    def index_text(self) -> None:
        """Post every entry under its trigrams: until this is done (it takes seconds at
        100,000 exercises, so the store runs it in the background once the snapshot serves),
        `q` reads the texts instead. Edits made meanwhile post their own entries."""
        self.text_index.post_all((entry.slug, entry.search_text) for entry in self.entries)

    def search(self, query: ExerciseQuery) -> Page:
        candidates = self._narrowest_candidates(query)
        if query.text:
            holding_text = self.text_index.candidates(query.text.casefold())
            if holding_text is not None and len(holding_text) < len(candidates):
                candidates = sorted(holding_text)
        start = 0 if query.after_slug is None else bisect_right(candidates, query.after_slug)
        found: list[CatalogueEntry] = []
        by_slug = self.by_slug
        for position in range(start, len(candidates)):
            entry = by_slug.get(candidates[position])
            if entry is not None and entry.matches(query):
                if len(found) == query.limit:
                    return Page(found, found[-1].slug)
                found.append(entry)
        return Page(found, None)

    def _narrowest_candidates(self, query: ExerciseQuery) -> Sequence[str]:
        """The shortest slug-ordered list holding every match: an index posting (or the union
        of a field's postings), else every slug."""
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
        best: Sequence[str] = self.slugs
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
            member: [s for s in self.by_slug[member].harder if s in component]
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
            linked = self.by_slug[pending.pop()]
            for neighbour in [*linked.easier, *linked.harder]:
                if neighbour in self.by_slug and neighbour not in seen:
                    seen.add(neighbour)
                    pending.append(neighbour)
        return seen

    def term_counts(self, field_name: str) -> Counter[str]:
        """How many published exercises use each term of a field (a vocabulary field, or
        `contraindicated_for` or `cited_sources`); counted once, then carried to the following
        snapshots with the changed entries' terms taken out and put in."""
        counts = self._term_counts.get(field_name)
        if counts is None:
            counts = Counter()
            for entry in self.entries:
                counts.update(entry.terms(field_name))
            self._term_counts[field_name] = counts
        return counts


def changed_counts(
    counts: Counter[str],
    field_name: str,
    before: Iterable[CatalogueEntry],
    after: Iterable[CatalogueEntry],
) -> Counter[str]:
    changed = counts.copy()
    for entry in before:
        changed.subtract(entry.terms(field_name))
    for entry in after:
        changed.update(entry.terms(field_name))
    return +changed
