"""Content bundles (sources and exercises): the one parser of seed/, imports and edits, and the
rules that span several records.

`parse_bundle` turns entries as read (from seed files or an import's document) into validated
records and every problem with them; seed loading, the admin import and the write API (through
`parse_records` and `link_problems`) all validate here, so a rule added here binds every way content
gets in.
"""

import hashlib
import re
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import orjson
import yaml
from pydantic import BaseModel, ValidationError

from app.content.images import ImageLimits
from app.content.media_files import (
    SEED_IMAGE_LIMITS,
    SIDECAR_SUFFIX,
    read_seed_media,
    seed_file_name,
    sidecar_document,
    sidecar_name,
)
from app.db.media_queries import MediaFile
from app.domain.bundle import ContentBundle as ContentBundle  # its readers import it from here
from app.domain.exercise import Exercise, Media, Source

RecordT = TypeVar("RecordT", bound=BaseModel)

Location = tuple[str | int, ...]
"""A place in a document as a JSON Pointer's reference tokens: ("exercises", 2, "level")."""

MAX_IMPORT_ENTRIES = 5_000
"""More than a 5 MB bundle of real entries can hold (an exercise takes over 1 KB), while a bundle
of empty entries would otherwise make over ten problems per entry, all held in memory."""

TWICE = "appears twice in the bundle"


def dotted(path: Location) -> str:
    return ".".join(str(token) for token in path)


@dataclass(frozen=True)
class Place:
    """Where an entry came from: the name its problems are reported under (a seed file, or the
    bundle part `exercises.2`), and where it sits in the document that was sent (`("exercises",
    2)` in an import; nothing for an edit's body, which is the entry itself)."""

    file: str
    at: Location = ()


@dataclass(frozen=True)
class ContentIssue:
    """One problem, named by the file (or bundle part), the entry and the field."""

    file: str
    entry: str
    field: str
    message: str
    location: Location | None = None
    """Where the problem is, from the root of the document that was sent; None when it is at no
    one place in it."""

    @classmethod
    def at(cls, place: Place, entry: str, path: Location, message: str) -> "ContentIssue":
        """A problem with the field at `path` in the entry at `place` (no path: the entry)."""
        location = (*place.at, *path)
        return cls(place.file, entry, dotted(path) or "(entry)", message, location or None)

    def __str__(self) -> str:
        return f"{self.file}: entry {self.entry!r}: field {self.field!r}: {self.message}"


class ContentInvalidError(Exception):
    def __init__(self, issues: list[ContentIssue]) -> None:
        super().__init__("\n".join(str(issue) for issue in issues))
        self.issues = issues


@dataclass(frozen=True)
class Entry:
    """One record as read, before validation: where it came from, its name (its slug or id, else
    its position or file name) and the raw value."""

    place: Place
    name: str
    raw: Any


def entry_name(raw: Any, key: str, fallback: str) -> str:
    return str(raw.get(key, fallback)) if isinstance(raw, dict) else fallback


def parse_records(
    model: type[RecordT], entries: Iterable[Entry]
) -> tuple[list[RecordT], list[ContentIssue]]:
    """Validate each entry, collecting every problem."""
    parsed: list[RecordT] = []
    issues: list[ContentIssue] = []
    for entry in entries:
        if not isinstance(entry.raw, Mapping):
            issues.append(
                ContentIssue.at(entry.place, entry.name, (), "expected a mapping of fields")
            )
            continue
        try:
            parsed.append(model.model_validate(entry.raw))
        except ValidationError as error:
            issues.extend(
                ContentIssue.at(entry.place, entry.name, tuple(item["loc"]), item["msg"])
                for item in error.errors()
            )
    return parsed, issues


@dataclass(frozen=True)
class ParsedBundle:
    """The records that validated, and every problem of the bundle (none: it may be written)."""

    bundle: ContentBundle
    issues: list[ContentIssue]


def parse_bundle(
    source_entries: list[Entry],
    exercise_entries: list[Entry],
    existing_sources: Iterable[Source] = (),
    existing: Iterable[Exercise] = (),
) -> ParsedBundle:
    """Validate every entry, then the catalogue the bundle would produce over the existing
    sources and exercises (a bundle's record replaces the existing one of its id or slug).
    Problems are reported only on the bundle's own entries."""
    sources, issues = parse_records(Source, source_entries)
    exercises, exercise_issues = parse_records(Exercise, exercise_entries)
    issues += exercise_issues
    source_place = {entry.name: entry.place for entry in source_entries}
    place_of = {entry.name: entry.place for entry in exercise_entries}
    source_ids = {source.id for source in existing_sources} | {source.id for source in sources}
    merged = {e.slug: e for e in existing} | {e.slug: e for e in exercises}
    invalid = set(place_of) - {exercise.slug for exercise in exercises}
    for problem in link_problems(source_ids, [Links.of(e) for e in merged.values()], invalid):
        slug = next((s for s in (problem.slug, *problem.involves) if s in place_of), None)
        if slug is not None:
            issues.append(ContentIssue.at(place_of[slug], slug, problem.path, problem.message))
    issues += [
        ContentIssue.at(place_of[slug], slug, ("slug",), TWICE)
        for slug in repeated(exercise.slug for exercise in exercises)
    ]
    issues += [
        ContentIssue.at(source_place[id_], id_, ("id",), TWICE)
        for id_ in repeated(source.id for source in sources)
    ]
    return ParsedBundle(ContentBundle(sources=sources, exercises=exercises), issues)


def parse_bundle_document(
    document: Any, existing_sources: Iterable[Source] = (), existing: Iterable[Exercise] = ()
) -> ParsedBundle:
    """A bundle sent as one document (`{sources, exercises}`, an import): each problem is located
    from the document's root (`exercises.2.level`)."""
    nothing = ContentBundle(sources=[], exercises=[])
    if not isinstance(document, dict) or set(document) - {"sources", "exercises"}:
        return ParsedBundle(
            nothing, [bundle_issue((), "expected an object with sources and exercises")]
        )
    if not document:  # `{}`: most likely a mistake, never a way to say "change nothing"
        return ParsedBundle(
            nothing, [bundle_issue((), "the bundle names neither sources nor exercises")]
        )
    parts = {part: document.get(part) or [] for part in ("sources", "exercises")}
    not_lists = [part for part, value in parts.items() if not isinstance(value, list)]
    if not_lists:
        return ParsedBundle(
            nothing,
            [bundle_issue((part,), "sources and exercises must be lists") for part in not_lists],
        )
    if len(parts["sources"]) + len(parts["exercises"]) > MAX_IMPORT_ENTRIES:
        message = f"at most {MAX_IMPORT_ENTRIES} sources and exercises in one import"
        return ParsedBundle(nothing, [bundle_issue((), message)])
    return parse_bundle(
        bundle_part("sources", "id", parts["sources"]),
        bundle_part("exercises", "slug", parts["exercises"]),
        existing_sources,
        existing,
    )


def bundle_issue(location: Location, message: str) -> ContentIssue:
    return ContentIssue("bundle", "(bundle)", dotted(location) or "(body)", message, location)


def bundle_part(part: str, key: str, raws: list[Any]) -> list[Entry]:
    """The entries of one list of a bundle document, each placed at its index."""
    return [
        Entry(Place(f"{part}.{index}", (part, index)), entry_name(raw, key, str(index)), raw)
        for index, raw in enumerate(raws)
    ]


def repeated(values: Iterable[str]) -> list[str]:
    """The values that occur more than once, sorted."""
    return sorted(value for value, count in Counter(values).items() if count > 1)


@dataclass(frozen=True)
class Links:
    """What the cross-record rules read of an exercise: its slug and what it points at."""

    slug: str
    cited: tuple[tuple[Location, str], ...] = ()
    """(field, source id) pairs, e.g. (("dosages", 0, "source"), "aaos-back-pain-exercises")."""
    easier: tuple[str, ...] = ()
    harder: tuple[str, ...] = ()
    variants: tuple[str, ...] = ()

    @classmethod
    def of(cls, exercise: Exercise) -> "Links":
        return cls(
            slug=exercise.slug,
            cited=tuple(
                [(("citations", i, "source"), c.source) for i, c in enumerate(exercise.citations)]
                + [(("dosages", i, "source"), d.source) for i, d in enumerate(exercise.dosages)]
            ),
            easier=tuple(exercise.progressions.easier),
            harder=tuple(exercise.progressions.harder),
            variants=tuple(exercise.variants),
        )


@dataclass(frozen=True)
class LinkProblem:
    """A rule across records broken by one exercise: at `path` in the exercise `slug`."""

    slug: str
    path: Location
    message: str
    involves: tuple[str, ...] = ()
    """The other exercises whose links make the problem (a cycle's): one of them may be the
    entry to blame when `slug` is an existing exercise the bundle does not hold."""


def link_problems(
    source_ids: set[str],
    records: list[Links],
    invalid_slugs: Iterable[str] = (),
    elsewhere: Collection[str] = (),
) -> list[LinkProblem]:
    """Citations resolve, links resolve, no progression cycle, for records of distinct slugs.

    `invalid_slugs` are entries already reported as invalid: links to them are not reported again.
    `elsewhere` are exercises stored beside the records (a link to one resolves).
    """
    problems: list[LinkProblem] = []
    known_slugs = {record.slug for record in records} | set(invalid_slugs)

    def known(slug: str) -> bool:
        return slug in known_slugs or slug in elsewhere

    for record in records:
        for field, source in record.cited:
            if source not in source_ids:
                problems.append(LinkProblem(record.slug, field, f"unknown source {source!r}"))
        for direction, targets in (("easier", record.easier), ("harder", record.harder)):
            for index, target in enumerate(targets):
                field = ("progressions", direction, index)
                if not known(target):
                    problems.append(LinkProblem(record.slug, field, f"unknown exercise {target!r}"))
                elif target == record.slug:
                    problems.append(LinkProblem(record.slug, field, "links to itself"))
        for index, target in enumerate(record.variants):
            if not known(target) or target == record.slug:
                message = f"unknown or self variant {target!r}"
                problems.append(LinkProblem(record.slug, ("variants", index), message))
    problems.extend(_cycle_problems(records))
    return problems


def _progression_edges(records: list[Links]) -> dict[str, set[str]]:
    """Both directions folded into one "is harder than" graph: easier -> harder."""
    harder: dict[str, set[str]] = {record.slug: set() for record in records}
    for record in records:
        harder[record.slug].update(s for s in record.harder if s in harder)
        for easier in record.easier:
            if easier in harder:
                harder[easier].add(record.slug)
    return harder


def _cycle_problems(records: list[Links]) -> list[LinkProblem]:
    harder = _progression_edges(records)
    state: dict[str, int] = {}
    problems: list[LinkProblem] = []

    def visit(slug: str, trail: list[str]) -> None:
        state[slug] = 1
        for target in sorted(harder[slug]):
            if state.get(target) == 1:
                cycle = (
                    [*trail[trail.index(target) :], target] if target in trail else [slug, target]
                )
                message = "progression links form a cycle: " + " -> ".join(cycle)
                problems.append(LinkProblem(slug, ("progressions",), message, tuple(cycle)))
            elif target not in state:
                visit(target, [*trail, target])
        state[slug] = 2

    for slug in sorted(harder):
        if slug not in state:
            visit(slug, [slug])
    return problems


def load_seed_directory(directory: Path) -> ContentBundle:
    """Read seed/: sources.yaml and exercises/*.yaml (one exercise per file), each exercise's
    images from its licence sidecar and the files beside it."""
    return load_seed_content(directory).bundle


@dataclass(frozen=True)
class SeedContent:
    """A seed directory read and validated: its bundle, and its image files by hash."""

    bundle: ContentBundle
    files: dict[str, MediaFile]


def load_seed_content(directory: Path, limits: ImageLimits = SEED_IMAGE_LIMITS) -> SeedContent:
    """Read seed/ (see `load_seed_directory`); every problem at once, or the content. An image
    file is checked as an upload is and kept byte for byte (`read_seed_media`)."""
    issues: list[ContentIssue] = []
    sources_file = directory / "sources.yaml"
    raw_sources = _read_yaml(sources_file, issues) or []
    if not isinstance(raw_sources, list):
        issues.append(ContentIssue(sources_file.name, "(file)", "(file)", "expected a list"))
        raw_sources = []
    source_entries = [
        Entry(Place(sources_file.name), entry_name(raw, "id", str(index)), raw)
        for index, raw in enumerate(raw_sources)
    ]
    exercise_entries: list[Entry] = []
    files: dict[str, MediaFile] = {}
    exercises_dir = directory / "exercises"
    for path in sorted(exercises_dir.glob("*.y*ml")):
        if path.name.endswith(SIDECAR_SUFFIX):
            if not path.with_name(path.name.removesuffix(SIDECAR_SUFFIX) + ".yaml").exists():
                issues.append(ContentIssue(path.name, "(file)", "(file)", "no exercise has it"))
            continue
        raw = _read_yaml(path, issues)
        if raw is None:
            continue
        place = Place(str(path.relative_to(directory)))
        name = entry_name(raw, "slug", path.stem)
        sidecar = path.with_name(sidecar_name(path.stem))
        if isinstance(raw, dict) and "media" in raw:
            message = f"images are listed in {sidecar.name}, beside their files"
            issues.append(ContentIssue.at(place, name, ("media",), message))
        if isinstance(raw, dict) and sidecar.exists():
            seeded = read_seed_media(
                path.stem, _read_yaml(sidecar, issues), _reader(exercises_dir), limits
            )
            sidecar_place = Place(str(sidecar.relative_to(directory)))
            issues += [ContentIssue.at(sidecar_place, name, at, m) for at, m in seeded.problems]
            files |= seeded.files
            raw = {**raw, "media": seeded.records}
        exercise_entries.append(Entry(place, name, raw))
    parsed = parse_bundle(source_entries, exercise_entries)
    issues += parsed.issues
    file_of = {entry.name: entry.place.file for entry in exercise_entries}
    for exercise in parsed.bundle.exercises:
        if not file_of[exercise.slug].startswith(f"exercises/{exercise.slug}."):
            issues.append(
                ContentIssue(
                    file_of[exercise.slug], exercise.slug, "slug", "file name must be the slug"
                )
            )
    if issues:
        raise ContentInvalidError(issues)
    return SeedContent(parsed.bundle, files)


def _reader(directory: Path) -> Callable[[str], bytes | None]:
    def read(name: str) -> bytes | None:
        path = directory / name
        return path.read_bytes() if path.is_file() else None

    return read


MAX_YAML_DEPTH = 32
"""Deeper than any exercise needs (about 5 levels), shallow enough that no parser recursion can
run out of stack."""


class BoundedSafeLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing anchors and aliases (a few hundred bytes of nested aliases
    expand to gigabytes: "billion laughs") and nesting deeper than MAX_YAML_DEPTH (PyYAML
    composes recursively). Content never needs either."""

    def __init__(self, stream: str | bytes) -> None:
        super().__init__(stream)
        self.depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise yaml.composer.ComposerError(
                None, None, "anchors and aliases (& and *) are not accepted", event.start_mark
            )
        self.depth += 1
        if self.depth > MAX_YAML_DEPTH:
            raise yaml.composer.ComposerError(
                None, None, f"nested deeper than {MAX_YAML_DEPTH} levels", event.start_mark
            )
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def load_yaml(text: str | bytes) -> Any:
    """One YAML document, through `BoundedSafeLoader`."""
    loader = BoundedSafeLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def _read_yaml(path: Path, issues: list[ContentIssue]) -> Any:
    try:
        return load_yaml(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        issues.append(ContentIssue(path.name, "(file)", "(file)", "file is missing"))
    except yaml.YAMLError as error:
        issues.append(ContentIssue(path.name, "(file)", "(file)", f"not valid YAML: {error}"))
    return None


def canonical_document(record: BaseModel) -> dict[str, Any]:
    """A validated record as the fields that differ from their defaults: what a seed file holds,
    and what stays the same when the model gains a field with a default."""
    return record.model_dump(mode="json", exclude_defaults=True)


def content_hash(record: BaseModel) -> str:
    """SHA-256 of the canonical document: equal for records that validate to the same content."""
    canonical = orjson.dumps(canonical_document(record), option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


MediaBytes = Callable[[str, Media], bytes]
"""The stored file of an exercise's image, by slug and record."""


def write_seed_directory(
    directory: Path,
    sources: list[Source],
    exercises: list[Exercise],
    media_bytes: MediaBytes | None = None,
) -> list[Path]:
    """Write sources.yaml and exercises/<slug>.yaml in the seed format, and each exercise's
    images beside it with their licence sidecar (files read through `media_bytes`): the inverse
    of `load_seed_directory` (loading what this wrote gives equal records). Image files and
    sidecars an exercise no longer has are removed."""
    (directory / "exercises").mkdir(parents=True, exist_ok=True)
    written = [directory / "sources.yaml"]
    _write_yaml(written[0], [canonical_document(source) for source in sources])
    for exercise in exercises:
        path = directory / "exercises" / f"{exercise.slug}.yaml"
        document = canonical_document(exercise)
        document.pop("media", None)
        _write_yaml(path, document)
        written.append(path)
        written += _write_media(directory / "exercises", exercise, media_bytes)
    return written


def _write_media(directory: Path, exercise: Exercise, media_bytes: MediaBytes | None) -> list[Path]:
    slug = exercise.slug
    sidecar = directory / sidecar_name(slug)
    kept = {seed_file_name(slug, item) for item in exercise.media}
    for old in directory.glob(f"{slug}.*"):
        if old.name not in kept and SEED_FILE.fullmatch(old.name.removeprefix(f"{slug}.")):
            old.unlink()
    if not exercise.media:
        sidecar.unlink(missing_ok=True)
        return []
    if media_bytes is None:
        raise ValueError(f"{slug} has images: their files are needed to write it")
    written = []
    for item in exercise.media:
        path = directory / seed_file_name(slug, item)
        _write_bytes(path, media_bytes(slug, item))
        written.append(path)
    _write_yaml(sidecar, sidecar_document(slug, exercise.media))
    return [*written, sidecar]


SEED_FILE = re.compile(r"[0-9a-f]{12}\.(?:jpg|png|webp)")
"""An image file's name after its exercise's slug and a dot."""


def _write_bytes(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    temporary.replace(path)


def _write_yaml(path: Path, document: Any) -> None:
    text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)
