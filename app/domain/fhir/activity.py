"""ActivityDefinition: one per published exercise, and search over a catalogue snapshot.

Each resource is serialised once per snapshot, on first use, so a search Bundle is a join of
ready bytes (as the JSON list is).
"""

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from app.domain.catalogue import Catalogue, CatalogueEntry
from app.domain.exercise import Dosage
from app.domain.fhir.common import (
    PUBLISHER,
    UCUM,
    Canonical,
    compact,
    computable_name,
    markdown_list,
)
from app.domain.fhir.terminology import DoseType, coding, concept
from app.domain.vocabulary import display_name

RESOURCE_TYPE = "ActivityDefinition"
CONTRAINDICATION_EXTENSION = "StructureDefinition/exercise-contraindication"
"""Relative to the canonical base: ActivityDefinition has no element for contraindications, so
each flag and its reason travel in this extension (and in `usage`, for people)."""

PUBLICATION_STATUSES = frozenset({"draft", "active", "retired", "unknown"})
PUBLISHED_STATUS = "active"
"""The facade serves published exercises only, so every ActivityDefinition here is active."""

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


def fhir_dosage(canonical: Canonical, dosage: Dosage, source_title: str) -> dict[str, Any]:
    """One cited dosage: repetitions, sets and holds as `doseAndRate`, how often and how long as
    `timing`. The source's frequency is free text, so it is the Timing's text, not a guess at a
    structured repeat."""
    doses = []
    if dosage.sets:
        doses.append(
            _dose(canonical, DoseType.sets, {"doseQuantity": _quantity(dosage.sets, "sets", "1")})
        )
    if dosage.reps:
        kind = DoseType.repetitions_each_side if dosage.per_side else DoseType.repetitions
        doses.append(
            _dose(canonical, kind, {"doseQuantity": _quantity(dosage.reps, "repetitions", "1")})
        )
    if dosage.hold_seconds is not None:
        hold = _quantity(dosage.hold_seconds, "s", "s")
        if dosage.hold_seconds_max:
            high = _quantity(dosage.hold_seconds_max, "s", "s")
            doses.append(
                _dose(canonical, DoseType.hold, {"doseRange": {"low": hold, "high": high}})
            )
        else:
            doses.append(_dose(canonical, DoseType.hold, {"doseQuantity": hold}))
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
            "url": f"{canonical.base}/{CONTRAINDICATION_EXTENSION}",
            "extension": [
                {"url": "flag", "valueCoding": coding(canonical, "sensitivity-flag", item.flag)},
                {"url": "reason", "valueString": item.reason},
            ],
        }
        for item in exercise.contraindications
    ]
    resource = {
        "resourceType": RESOURCE_TYPE,
        "id": entry.slug,
        "meta": {"versionId": str(entry.version)},
        "extension": contraindications,
        "url": canonical.url(RESOURCE_TYPE, entry.slug),
        "version": str(entry.version),
        "name": computable_name(entry.slug),
        "title": exercise.name,
        "subtitle": "; ".join(exercise.aliases) or None,
        "status": PUBLISHED_STATUS,
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
        ],
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
    """Every topic code of the exercise, with and without its system (for `topic=code` and
    `topic=system|code`)."""
    exercise = entry.exercise
    codes = [
        ("exercise-category", exercise.category),
        ("level", exercise.level),
        ("position", exercise.position),
        ("spinal-motion", exercise.spinal_motion),
    ]
    tokens: set[Token] = set()
    for vocabulary_id, term in codes:
        tokens.add((canonical.code_system(vocabulary_id), term.value))
        tokens.add((None, term.value))
    return frozenset(tokens)


@dataclass(frozen=True)
class ActivitySearch:
    """A search. Each tuple item is one occurrence of a parameter: its values are alternatives
    (FHIR's comma means OR); every occurrence must match (repeating a parameter means AND)."""

    ids: tuple[frozenset[str], ...] = ()
    names: tuple[tuple[str, ...], ...] = ()
    topics: tuple[frozenset[Token], ...] = ()
    urls: tuple[frozenset[tuple[str, str | None]], ...] = ()
    statuses: tuple[frozenset[str], ...] = ()
    after_id: str | None = None
    count: int = 20


@dataclass(frozen=True)
class ActivityPage:
    resources: list[bytes]
    ids: list[str]
    total: int
    next_after: str | None


class ActivityDefinitions:
    """The ActivityDefinitions of one catalogue snapshot, each serialised once on first use."""

    def __init__(self, catalogue: Catalogue, canonical: Canonical) -> None:
        self.catalogue = catalogue
        self.canonical = canonical
        self._json: dict[str, bytes] = {}
        self._topics: dict[str, frozenset[Token]] = {}
        self._url_prefix = canonical.url(RESOURCE_TYPE, "")

    def resource(self, entry: CatalogueEntry) -> dict[str, Any]:
        return activity_definition(self.canonical, entry)

    def resource_json(self, entry: CatalogueEntry) -> bytes:
        ready = self._json.get(entry.slug)
        if ready is None:
            ready = self._json[entry.slug] = orjson.dumps(self.resource(entry))
        return ready

    def get(self, resource_id: str) -> CatalogueEntry | None:
        return self.catalogue.get(resource_id)

    def search(self, search: ActivitySearch) -> ActivityPage:
        candidates = self._candidates(search)
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

    def _candidates(self, search: ActivitySearch) -> Sequence[CatalogueEntry]:
        """The narrowest start: the named ids or urls when given, else the whole snapshot."""
        wanted: set[str] | None = None
        for values in search.ids:
            wanted = set(values) if wanted is None else wanted & values
        for url_values in search.urls:
            slugs = {self._slug_of(url) for url, _ in url_values} - {None}
            wanted = {s for s in slugs if s} if wanted is None else wanted & slugs
        if wanted is None:
            return self.catalogue.entries
        found = (self.catalogue.get(slug) for slug in sorted(wanted))
        return [entry for entry in found if entry is not None]

    def _slug_of(self, url: str) -> str | None:
        return url.removeprefix(self._url_prefix) if url.startswith(self._url_prefix) else None

    @staticmethod
    def _has_checks(search: ActivitySearch) -> bool:
        return bool(search.names or search.topics or search.urls or search.statuses)

    def _matches(self, entry: CatalogueEntry, search: ActivitySearch) -> bool:
        name = computable_name(entry.slug).casefold()
        if any(not any(name.startswith(prefix) for prefix in names) for names in search.names):
            return False
        if search.topics:
            tokens = self._topics.get(entry.slug)
            if tokens is None:
                tokens = self._topics[entry.slug] = topic_tokens(self.canonical, entry)
            if any(tokens.isdisjoint(values) for values in search.topics):
                return False
        if any(PUBLISHED_STATUS not in values for values in search.statuses):
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
        if current is None or current.catalogue is not catalogue:
            current = self._current = ActivityDefinitions(catalogue, self.canonical)
        return current


def bundle_entries(base_url: str, page: ActivityPage) -> Iterable[bytes]:
    """Each match as a searchset entry, joining the ready resource bytes."""
    prefix = f'{{"fullUrl":"{base_url}/{RESOURCE_TYPE}/'.encode()
    for resource_id, resource in zip(page.ids, page.resources, strict=True):
        yield prefix + resource_id.encode() + b'","resource":' + resource + MATCH


MATCH = b',"search":{"mode":"match"}}'


def searchset(base_url: str, page: ActivityPage, self_url: str, next_url: str | None) -> bytes:
    links = [{"relation": "self", "url": self_url}]
    if next_url is not None:
        links.append({"relation": "next", "url": next_url})
    head = orjson.dumps(
        {"resourceType": "Bundle", "type": "searchset", "total": page.total, "link": links}
    )
    if not page.ids:
        return head
    return head[:-1] + b',"entry":[' + b",".join(bundle_entries(base_url, page)) + b"]}"
