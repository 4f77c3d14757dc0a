"""ActivityDefinition: one per published exercise, and search over a catalogue snapshot.

Each resource is serialised on first use and kept in a bounded cache shared by the snapshots
that hold the same entry, so a search Bundle is a join of ready bytes (as the JSON list is). A
`name` search bisects an index of the computable names, kept in step with the snapshots.
"""

from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from app.core.lru import LruCache
from app.domain.catalogue import Catalogue, CatalogueEntry
from app.domain.exercise import Dosage
from app.domain.fhir.common import (
    PUBLISHER,
    UCUM,
    Canonical,
    compact,
    computable_name,
    folded,
    markdown_list,
    narrative,
)
from app.domain.fhir.terminology import DoseType, coding, concept
from app.domain.figure.illustrations import PNG_MEDIA_TYPE
from app.domain.timestamps import rfc3339
from app.domain.vocabulary import Status, display_name

RESOURCE_TYPE = "ActivityDefinition"
CONTRAINDICATION_EXTENSION_ID = "exercise-contraindication"
"""ActivityDefinition has no element for contraindications, so each flag and its reason travel
in this extension (and in `usage`, for people); its StructureDefinition is in `profiles`."""

PUBLICATION_STATUSES = frozenset({"draft", "active", "retired", "unknown"})
PUBLICATION_STATUS_SYSTEM = "http://hl7.org/fhir/publication-status"
PUBLISHED_STATUS = "active"
FHIR_STATUS = {Status.published: "active", Status.retired: "retired", Status.draft: "draft"}
"""The current version of every exercise served is published, so active; a kept older version
(read by `_history` or `url|version`) may be the one that retired it."""

Token = tuple[str | None, str]
"""A token search value: (system or None for any system, code)."""


def _quantity(value: int, unit: str, code: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": code}


def _dose(canonical: Canonical, dose_type: DoseType, quantity: dict[str, Any]) -> dict[str, Any]:
    return {"type": concept(canonical, "dose-type", dose_type), **quantity}


def dosage_text(dosage: Dosage, source_title: str) -> str:
    parts = []
    if dosage.sets:
        parts.append(f"{dosage.sets} sets")
    if dosage.reps:
        parts.append(f"{dosage.reps} repetitions" + (" on each side" if dosage.per_side else ""))
    elif dosage.per_side:
        parts.append("on each side")
    if dosage.hold_seconds is not None:
        upper = f"-{dosage.hold_seconds_max}" if dosage.hold_seconds_max else ""
        parts.append(f"hold {dosage.hold_seconds}{upper} s")
    if dosage.duration_minutes:
        parts.append(f"{dosage.duration_minutes} minutes")
    if dosage.frequency:
        parts.append(dosage.frequency.rstrip("."))
    text = ", ".join(parts) or "as described"
    return f"{text[:1].upper()}{text[1:]} (source: {source_title})."


def structured_doses(
    canonical: Canonical,
    sets: int | None,
    reps: int | None,
    per_side: bool,
    hold: tuple[int | None, int | None] = (None, None),
    rest_seconds: int | None = None,
) -> list[dict[str, Any]]:
    """A dose as `doseAndRate` entries typed by `dose-type`: sets, repetitions (overall or on
    each side), the hold of each (a range when the source gives one) and the rest between
    sets, in UCUM units."""
    doses = []
    if sets:
        doses.append(
            _dose(canonical, DoseType.sets, {"doseQuantity": _quantity(sets, "sets", "1")})
        )
    if reps:
        kind = DoseType.repetitions_each_side if per_side else DoseType.repetitions
        doses.append(_dose(canonical, kind, {"doseQuantity": _quantity(reps, "repetitions", "1")}))
    low, high = hold
    if low is not None:
        held = _quantity(low, "s", "s")
        if high:
            hold_range = {"low": held, "high": _quantity(high, "s", "s")}
            doses.append(_dose(canonical, DoseType.hold, {"doseRange": hold_range}))
        else:
            doses.append(_dose(canonical, DoseType.hold, {"doseQuantity": held}))
    if rest_seconds:
        rest = {"doseQuantity": _quantity(rest_seconds, "s", "s")}
        doses.append(_dose(canonical, DoseType.rest_between_sets, rest))
    return doses


def fhir_dosage(canonical: Canonical, dosage: Dosage, source_title: str) -> dict[str, Any]:
    """One cited dosage: repetitions, sets and holds as `doseAndRate`, how often and how long as
    `timing`. The source's frequency is free text, so it is the Timing's text, not a guess at a
    structured repeat."""
    hold = (dosage.hold_seconds, dosage.hold_seconds_max)
    doses = structured_doses(canonical, dosage.sets, dosage.reps, dosage.per_side, hold)
    repeat = (
        {"duration": dosage.duration_minutes, "durationUnit": "min"}
        if dosage.duration_minutes
        else None
    )
    timing = {"code": {"text": dosage.frequency} if dosage.frequency else None, "repeat": repeat}
    return {
        "text": dosage_text(dosage, source_title),
        "patientInstruction": dosage.notes,
        "timing": timing,
        "doseAndRate": doses,
    }


def usage(entry: CatalogueEntry) -> str:
    exercise = entry.exercise
    sections = ["Steps:\n\n" + markdown_list(list(exercise.steps), numbered=True)]
    if exercise.cautions:
        sections.append("Cautions:\n\n" + markdown_list(list(exercise.cautions)))
    if exercise.contraindications:
        lines = [f"{item.flag.value}: {item.reason}" for item in exercise.contraindications]
        sections.append("Avoid by default when:\n\n" + markdown_list(lines))
    if exercise.optional_equipment:
        names = [display_name(item) for item in exercise.optional_equipment]
        sections.append("Helps but not required: " + ", ".join(names) + ".")
    return "\n\n".join(sections)


def fhir_status(entry: CatalogueEntry) -> str:
    return FHIR_STATUS[entry.exercise.status]


def illustration_artifacts(canonical: Canonical, entry: CatalogueEntry) -> list[dict[str, Any]]:
    """Each illustration as documentation: the picture (a PNG, which every viewer shows), its
    alt text as the display and title."""
    return [
        {
            "type": "documentation",
            "label": link["frame"],
            "display": link["alt"],
            "document": {
                "contentType": PNG_MEDIA_TYPE,
                "url": canonical.public_base + link["png_url"],
                "title": link["alt"],
            },
        }
        for link in entry.illustrations
    ]


def activity_definition(canonical: Canonical, entry: CatalogueEntry) -> dict[str, Any]:
    exercise = entry.exercise
    sources = entry.sources
    participants: list[dict[str, Any]] = [
        {"type": "device", "role": concept(canonical, "equipment", item)}
        for item in exercise.equipment
    ]
    if exercise.needs_helper:
        participants.append({"type": "related-person"})
    contraindications = [
        {
            "url": canonical.url("StructureDefinition", CONTRAINDICATION_EXTENSION_ID),
            "extension": [
                {"url": "flag", "valueCoding": coding(canonical, "sensitivity-flag", item.flag)},
                {"url": "reason", "valueString": item.reason},
            ],
        }
        for item in exercise.contraindications
    ]
    updated = rfc3339(entry.updated_at) if entry.updated_at else None
    resource = {
        "resourceType": RESOURCE_TYPE,
        "id": entry.slug,
        "meta": {"versionId": str(entry.version), "lastUpdated": updated},
        "text": narrative(
            exercise.name,
            exercise.summary,
            *(f"{index}. {step}" for index, step in enumerate(exercise.steps, 1)),
            f"Version {entry.version}; {fhir_status(entry)}.",
        ),
        "extension": contraindications,
        "url": canonical.url(RESOURCE_TYPE, entry.slug),
        "version": str(entry.version),
        "name": computable_name(entry.slug),
        "title": exercise.name,
        "subtitle": "; ".join(exercise.aliases) or None,
        "status": fhir_status(entry),
        "experimental": False,
        "publisher": PUBLISHER,
        "description": exercise.summary,
        "purpose": markdown_list(list(exercise.indications)) or None,
        "usage": usage(entry),
        "topic": [
            concept(canonical, "exercise-category", exercise.category),
            concept(canonical, "level", exercise.level),
            concept(canonical, "position", exercise.position),
            concept(canonical, "spinal-motion", exercise.spinal_motion),
        ],
        "relatedArtifact": [
            {
                "type": "citation",
                "label": citation.source,
                "display": sources[citation.source].title,
                "citation": citation.note,
            }
            for citation in exercise.citations
        ]
        + illustration_artifacts(canonical, entry),
        "kind": "ServiceRequest",
        "participant": participants,
        "dosage": [
            fhir_dosage(canonical, dosage, sources[dosage.source].title)
            for dosage in exercise.dosages
        ],
        "bodySite": [concept(canonical, "target-area", area) for area in exercise.target_areas],
    }
    result: dict[str, Any] = compact(resource)
    return result


def topic_tokens(canonical: Canonical, entry: CatalogueEntry) -> frozenset[Token]:
    """Every topic code of the exercise, with and without its system, and each system alone
    (for `topic=code`, `topic=system|code` and `topic=system|`)."""
    exercise = entry.exercise
    codes = [
        ("exercise-category", exercise.category),
        ("level", exercise.level),
        ("position", exercise.position),
        ("spinal-motion", exercise.spinal_motion),
    ]
    tokens: set[Token] = set()
    for vocabulary_id, term in codes:
        system = canonical.code_system(vocabulary_id)
        tokens |= {(system, term.value), (None, term.value), (system, "")}
    return frozenset(tokens)


def tokens_match(tokens: frozenset[Token], wanted: frozenset[Token]) -> bool:
    """Any wanted token is the entry's: `(system, "")` (from `system|`) stands for every code
    of that system, and the entry's tokens hold it for each system it has a code in."""
    return not tokens.isdisjoint(wanted)


@dataclass(frozen=True)
class ActivitySearch:
    """A search. Each tuple item is one occurrence of a parameter: its values are alternatives
    (FHIR's comma means OR); every occurrence must match (repeating a parameter means AND)."""

    ids: tuple[frozenset[str], ...] = ()
    names: tuple[tuple[str, ...], ...] = ()
    topics: tuple[frozenset[Token], ...] = ()
    urls: tuple[frozenset[tuple[str, str | None]], ...] = ()
    statuses: tuple[frozenset[str], ...] = ()
    last_updated: tuple["UpdatedBound", ...] = ()
    after_id: str | None = None
    count: int = 20


UpdatedBound = tuple[str, datetime, datetime]
"""A `_lastUpdated` value: its prefix and the interval it names, [low, high)."""
PREFIXES = ("eq", "gt", "ge", "lt", "le")


def last_updated_bound(value: str) -> UpdatedBound:
    """`[prefix]date` or `[prefix]dateTime`; a date (or a time without a zone, read as UTC)
    names its whole day or that instant. ValueError for anything else."""
    prefix = value[:2] if value[:2] in PREFIXES else "eq"
    text = value[2:] if value[:2] in PREFIXES else value
    if len(text) == 10:
        low = datetime.fromisoformat(text).replace(tzinfo=UTC)
        return (prefix, low, low + timedelta(days=1))
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return (prefix, moment, moment + timedelta(microseconds=1))


def within(moment: datetime, bound: UpdatedBound) -> bool:
    prefix, low, high = bound
    return {
        "eq": low <= moment < high,
        "gt": moment >= high,
        "ge": moment >= low,
        "lt": moment < low,
        "le": moment < high,
    }[prefix]


@dataclass(frozen=True)
class ActivityPage:
    resources: list[bytes]
    ids: list[str]
    total: int
    next_after: str | None


RESOURCES_KEPT = 4096
"""Serialised resources kept: the pages being read, never a second copy of a large catalogue."""


class NameIndex:
    """Every published exercise's computable name, casefolded, beside its slug, in name order:
    a `name` search (a prefix) is a bisected range. A name depends on the slug only, so an edit
    that keeps the catalogue's slugs keeps the index, and one that adds or removes some moves
    only theirs."""

    def __init__(self, names: list[tuple[str, str]], catalogue_slugs: list[str]) -> None:
        self.names = names
        self.catalogue_slugs = catalogue_slugs

    @classmethod
    def of(cls, catalogue: Catalogue) -> "NameIndex":
        names = sorted((name_key(slug), slug) for slug in catalogue.slugs)
        return cls(names, catalogue.slugs)

    def following(self, catalogue: Catalogue) -> "NameIndex":
        if catalogue.slugs is self.catalogue_slugs:
            return NameIndex(self.names, catalogue.slugs)
        names = list(self.names)
        for slug in catalogue.changed_slugs or ():
            position = (name_key(slug), slug)
            at = bisect_left(names, position)
            held = at < len(names) and names[at] == position
            if held and slug not in catalogue.by_slug:
                del names[at]
            elif not held and slug in catalogue.by_slug:
                insort(names, position)
        return NameIndex(names, catalogue.slugs)

    def starting_with(self, prefixes: Iterable[str]) -> set[str]:
        found: set[str] = set()
        for prefix in prefixes:
            at = bisect_left(self.names, (prefix, ""))
            while at < len(self.names) and self.names[at][0].startswith(prefix):
                found.add(self.names[at][1])
                at += 1
        return found


def name_key(slug: str) -> str:
    return computable_name(slug).casefold()


class ActivityDefinitions:
    """The ActivityDefinitions of one catalogue snapshot."""

    def __init__(
        self,
        catalogue: Catalogue,
        canonical: Canonical,
        resources: LruCache[CatalogueEntry, bytes] | None = None,
    ) -> None:
        self.catalogue = catalogue
        self.canonical = canonical
        self._json = resources if resources is not None else LruCache(RESOURCES_KEPT)
        self._topics: dict[str, frozenset[Token]] = {}
        self._url_prefix = canonical.url(RESOURCE_TYPE, "")

    @property
    def names(self) -> NameIndex:
        return self.catalogue.kept("fhir-names", NameIndex.of, NameIndex.following)

    def following(self, catalogue: Catalogue) -> "ActivityDefinitions":
        """The view of another snapshot, sharing the cache of serialised resources: a cached
        resource is keyed by its entry, which a changed exercise no longer shares."""
        return ActivityDefinitions(catalogue, self.canonical, self._json)

    def resource(self, entry: CatalogueEntry) -> dict[str, Any]:
        return activity_definition(self.canonical, entry)

    def resource_json(self, entry: CatalogueEntry) -> bytes:
        """Ready bytes, cached per entry (a snapshot's entry never changes)."""
        ready = self._json.get(entry)
        if ready is None:
            ready = orjson.dumps(self.resource(entry))
            self._json.put(entry, ready)
        return ready

    def versions_wanted(self, search: ActivitySearch) -> set[tuple[str, int]]:
        """The (slug, version) pairs the search's `url|version` values name that this snapshot
        does not hold: kept versions the caller must look up (see `search`'s `kept`)."""
        wanted = set()
        for values in search.urls:
            for url, version in values:
                slug = self._slug_of(url)
                if slug and version is not None and version.isdigit():
                    entry = self.catalogue.get(slug)
                    if entry is None or str(entry.version) != version:
                        wanted.add((slug, int(version)))
        return wanted

    def get(self, resource_id: str) -> CatalogueEntry | None:
        return self.catalogue.get(resource_id)

    def search(self, search: ActivitySearch, kept: Sequence[CatalogueEntry] = ()) -> ActivityPage:
        """One page of matches. `kept`: older versions that `url|version` values name (found
        by the caller from `versions_wanted`), searched beside the snapshot's."""
        candidates = self._candidates(search, kept)
        checks = self._has_checks(search)
        start = 0
        if search.after_id is not None:
            slugs = (
                self.catalogue.slugs
                if candidates is self.catalogue.entries
                else [entry.slug for entry in candidates]
            )
            start = bisect_right(slugs, search.after_id)
        if not checks:
            total = len(candidates)
            page = list(candidates[start : start + search.count])
            more = start + search.count < total
        else:
            matching = [entry for entry in candidates if self._matches(entry, search)]
            total = len(matching)
            later = [entry for entry in matching if entry.slug > (search.after_id or "")]
            page = later[: search.count]
            more = len(later) > search.count
        return ActivityPage(
            resources=[self.resource_json(entry) for entry in page],
            ids=[entry.slug for entry in page],
            total=total,
            next_after=page[-1].slug if more and page else None,
        )

    def _candidates(
        self, search: ActivitySearch, kept: Sequence[CatalogueEntry]
    ) -> Sequence[CatalogueEntry]:
        """The narrowest start: the named ids or urls (and the kept versions of those), or the
        names starting with a `name` searched, else the whole snapshot."""
        wanted: set[str] | None = None
        for prefixes in search.names:
            named = self.names.starting_with(prefixes)
            wanted = named if wanted is None else wanted & named
        for values in search.ids:
            wanted = set(values) if wanted is None else wanted & values
        for url_values in search.urls:
            slugs = {self._slug_of(url) for url, _ in url_values} - {None}
            wanted = {s for s in slugs if s} if wanted is None else wanted & slugs
        if wanted is None:
            return self.catalogue.entries
        found = [self.catalogue.get(slug) for slug in wanted]
        found += [entry for entry in kept if entry.slug in wanted]
        present = [entry for entry in found if entry is not None]
        return sorted(present, key=lambda entry: (entry.slug, entry.version))

    def _slug_of(self, url: str) -> str | None:
        return url.removeprefix(self._url_prefix) if url.startswith(self._url_prefix) else None

    @staticmethod
    def _has_checks(search: ActivitySearch) -> bool:
        return bool(
            search.names or search.topics or search.urls or search.statuses or search.last_updated
        )

    def _matches(self, entry: CatalogueEntry, search: ActivitySearch) -> bool:
        name = folded(computable_name(entry.slug))
        if any(not any(name.startswith(prefix) for prefix in names) for names in search.names):
            return False
        if search.topics:
            tokens = self._topics.get(entry.slug)
            if tokens is None:
                tokens = self._topics[entry.slug] = topic_tokens(self.canonical, entry)
            if any(not tokens_match(tokens, values) for values in search.topics):
                return False
        if search.last_updated and (
            entry.updated_at is None
            or not all(within(entry.updated_at, bound) for bound in search.last_updated)
        ):
            return False
        status = fhir_status(entry)
        if any(status not in values for values in search.statuses):
            return False
        own_url = self._url_prefix + entry.slug
        version = str(entry.version)
        return all(
            any(url == own_url and wanted in (None, version) for url, wanted in values)
            for values in search.urls
        )


class ActivityViews:
    """Keeps the FHIR view of the latest snapshot; a new snapshot gets a new view."""

    def __init__(self, canonical: Canonical) -> None:
        self.canonical = canonical
        self._current: ActivityDefinitions | None = None

    def for_catalogue(self, catalogue: Catalogue) -> ActivityDefinitions:
        current = self._current
        if current is None:
            current = self._current = ActivityDefinitions(catalogue, self.canonical)
        elif current.catalogue is not catalogue:
            current = self._current = current.following(catalogue)
        return current


def history_bundle(
    base_url: str, self_url: str, versions: Sequence[tuple[dict[str, Any], str]]
) -> dict[str, Any]:
    """An instance's `_history`: each kept version (resource, when it was written), newest
    first, as the create (version 1) or update that made it."""
    entries = []
    for resource, recorded_at in sorted(
        versions, key=lambda item: -int(item[0]["meta"]["versionId"])
    ):
        first = resource["meta"]["versionId"] == "1"
        resource_id = resource["id"]
        entries.append(
            {
                "fullUrl": f"{base_url}/{RESOURCE_TYPE}/{resource_id}",
                "resource": resource,
                "request": {
                    "method": "POST" if first else "PUT",
                    "url": RESOURCE_TYPE if first else f"{RESOURCE_TYPE}/{resource_id}",
                },
                "response": {
                    "status": "201" if first else "200",
                    "etag": f'W/"{resource["meta"]["versionId"]}"',
                    "lastModified": recorded_at,
                },
            }
        )
    return {
        "resourceType": "Bundle",
        "type": "history",
        "total": len(entries),
        "link": [{"relation": "self", "url": self_url}],
        "entry": entries,
    }


def bundle_entries(
    base_url: str, page: ActivityPage, elements: frozenset[str] | None = None
) -> Iterable[bytes]:
    """Each match as a searchset entry, joining the ready resource bytes (or their subset)."""
    prefix = f'{{"fullUrl":"{base_url}/{RESOURCE_TYPE}/'.encode()
    for resource_id, resource in zip(page.ids, page.resources, strict=True):
        shown = resource if elements is None else subset(resource, elements)
        yield prefix + resource_id.encode() + b'","resource":' + shown + MATCH


MATCH = b',"search":{"mode":"match"}}'


@dataclass(frozen=True)
class BundleShape:
    """How a searchset is given: with `total` or not (`_total=none`), each resource whole or
    only some top-level elements (`_elements`), and the parameters lenient handling ignored."""

    total: bool = True
    elements: frozenset[str] | None = None
    ignored: tuple[str, ...] = ()


SUBSETTED = {
    "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
    "code": "SUBSETTED",
    "display": "subsetted",
}
KEPT_ELEMENTS = frozenset({"resourceType", "id", "meta", "status"})
"""Always kept: what identifies the resource, and its one required element (`status`)."""


def subset(resource: bytes, elements: frozenset[str]) -> bytes:
    """Only the asked top-level elements (and the mandatory ones), tagged SUBSETTED."""
    whole = orjson.loads(resource)
    kept = {key: value for key, value in whole.items() if key in elements | KEPT_ELEMENTS}
    kept["meta"] = {**kept.get("meta", {}), "tag": [SUBSETTED]}
    return orjson.dumps(kept)


def ignored_outcome(ignored: Sequence[str]) -> bytes:
    names = ", ".join(ignored)
    text = f"Ignored, as Prefer: handling=lenient asked: {names}."
    outcome = {
        "resourceType": "OperationOutcome",
        "text": narrative("Parameters ignored", text),
        "issue": [{"severity": "warning", "code": "not-supported", "diagnostics": text}],
    }
    return orjson.dumps({"resource": outcome, "search": {"mode": "outcome"}})


def searchset(
    base_url: str,
    page: ActivityPage,
    self_url: str,
    next_url: str | None,
    shape: BundleShape = BundleShape(),
) -> bytes:
    links = [{"relation": "self", "url": self_url}]
    if next_url is not None:
        links.append({"relation": "next", "url": next_url})
    head: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset"}
    if shape.total:
        head["total"] = page.total
    head["link"] = links
    entries = list(bundle_entries(base_url, page, shape.elements))
    if shape.ignored:
        entries.append(ignored_outcome(shape.ignored))
    if not entries:
        return orjson.dumps(head)
    return orjson.dumps(head)[:-1] + b',"entry":[' + b",".join(entries) + b"]}"
