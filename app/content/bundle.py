"""Content bundles (sources and exercises) and the rules that span several records.

Seed loading, the write API and the admin import all validate through `validate_bundle`, so a rule
added here binds every way content gets in.
"""

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import orjson
import yaml
from pydantic import BaseModel, ValidationError

from app.domain.bundle import ContentBundle as ContentBundle  # its readers import it from here
from app.domain.exercise import Exercise, Source

RecordT = TypeVar("RecordT", bound=BaseModel)


@dataclass(frozen=True)
class ContentIssue:
    """One problem, named by the file (or bundle part), the entry and the field."""

    file: str
    entry: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: entry {self.entry!r}: field {self.field!r}: {self.message}"


class ContentInvalidError(Exception):
    def __init__(self, issues: list[ContentIssue]) -> None:
        super().__init__("\n".join(str(issue) for issue in issues))
        self.issues = issues


def _issues_from(error: ValidationError, file: str, entry: str) -> list[ContentIssue]:
    return [
        ContentIssue(
            file, entry, ".".join(str(part) for part in item["loc"]) or "(entry)", item["msg"]
        )
        for item in error.errors()
    ]


def parse_records(
    model: type[RecordT], records: Iterable[tuple[str, str, Any]]
) -> tuple[list[RecordT], list[ContentIssue]]:
    """Validate (file, entry name, raw mapping) triples, collecting every problem."""
    parsed: list[RecordT] = []
    issues: list[ContentIssue] = []
    for file, entry, raw in records:
        if not isinstance(raw, Mapping):
            issues.append(ContentIssue(file, entry, "(entry)", "expected a mapping of fields"))
            continue
        try:
            parsed.append(model.model_validate(raw))
        except ValidationError as error:
            issues.extend(_issues_from(error, file, entry))
    return parsed, issues


def repeated(values: Iterable[str]) -> list[str]:
    """The values that occur more than once, sorted."""
    return sorted(value for value, count in Counter(values).items() if count > 1)


@dataclass(frozen=True)
class Links:
    """What the cross-record rules read of an exercise: its slug and what it points at."""

    slug: str
    cited: tuple[tuple[str, str], ...] = ()
    """(field, source id) pairs, e.g. ("dosages.0.source", "aaos-back-pain-exercises")."""
    easier: tuple[str, ...] = ()
    harder: tuple[str, ...] = ()
    variants: tuple[str, ...] = ()

    @classmethod
    def of(cls, exercise: Exercise) -> "Links":
        return cls(
            slug=exercise.slug,
            cited=tuple(
                [(f"citations.{i}.source", c.source) for i, c in enumerate(exercise.citations)]
                + [(f"dosages.{i}.source", d.source) for i, d in enumerate(exercise.dosages)]
            ),
            easier=tuple(exercise.progressions.easier),
            harder=tuple(exercise.progressions.harder),
            variants=tuple(exercise.variants),
        )


def validate_bundle(
    sources: list[Source],
    exercises: list[Exercise],
    file_of: Mapping[str, str] | None = None,
    invalid_slugs: Iterable[str] = (),
) -> list[ContentIssue]:
    """Rules across records: unique ids, citations resolve, links resolve, no progression cycle.

    `invalid_slugs` are entries already reported as invalid: links to them are not reported again.
    """
    source_ids = [source.id for source in sources]
    issues = [
        ContentIssue("sources", duplicate, "id", "duplicate source id")
        for duplicate in repeated(source_ids)
    ]
    links = [Links.of(exercise) for exercise in exercises]
    return issues + validate_links(set(source_ids), links, file_of or {}, invalid_slugs)


def validate_links(
    source_ids: set[str],
    records: list[Links],
    file_of: Mapping[str, str],
    invalid_slugs: Iterable[str] = (),
) -> list[ContentIssue]:
    issues: list[ContentIssue] = []

    def report(slug: str, field: str, message: str) -> None:
        issues.append(ContentIssue(file_of.get(slug, "exercises"), slug, field, message))

    slugs = [record.slug for record in records]
    for duplicate in repeated(slugs):
        report(duplicate, "slug", "duplicate slug")
    known_slugs = set(slugs) | set(invalid_slugs)
    for record in records:
        for field, source in record.cited:
            if source not in source_ids:
                report(record.slug, field, f"unknown source {source!r}")
        for direction, targets in (("easier", record.easier), ("harder", record.harder)):
            for index, target in enumerate(targets):
                field = f"progressions.{direction}.{index}"
                if target not in known_slugs:
                    report(record.slug, field, f"unknown exercise {target!r}")
                elif target == record.slug:
                    report(record.slug, field, "links to itself")
        for index, target in enumerate(record.variants):
            if target not in known_slugs or target == record.slug:
                report(record.slug, f"variants.{index}", f"unknown or self variant {target!r}")
    issues.extend(_cycle_issues(records, file_of))
    return issues


def _progression_edges(records: list[Links]) -> dict[str, set[str]]:
    """Both directions folded into one "is harder than" graph: easier -> harder."""
    harder: dict[str, set[str]] = {record.slug: set() for record in records}
    for record in records:
        harder[record.slug].update(s for s in record.harder if s in harder)
        for easier in record.easier:
            if easier in harder:
                harder[easier].add(record.slug)
    return harder


def _cycle_issues(records: list[Links], file_of: Mapping[str, str]) -> list[ContentIssue]:
    harder = _progression_edges(records)
    state: dict[str, int] = {}
    issues: list[ContentIssue] = []

    def visit(slug: str, trail: list[str]) -> None:
        state[slug] = 1
        for target in sorted(harder[slug]):
            if state.get(target) == 1:
                cycle = (
                    [*trail[trail.index(target) :], target] if target in trail else [slug, target]
                )
                issues.append(
                    ContentIssue(
                        file_of.get(slug, "exercises"),
                        slug,
                        "progressions",
                        "progression links form a cycle: " + " -> ".join(cycle),
                    )
                )
            elif target not in state:
                visit(target, [*trail, target])
        state[slug] = 2

    for slug in sorted(harder):
        if slug not in state:
            visit(slug, [slug])
    return issues


def load_seed_directory(directory: Path) -> ContentBundle:
    """Read seed/: sources.yaml and exercises/*.yaml (one exercise per file)."""
    issues: list[ContentIssue] = []
    sources_file = directory / "sources.yaml"
    raw_sources = _read_yaml(sources_file, issues) or []
    if not isinstance(raw_sources, list):
        issues.append(ContentIssue(sources_file.name, "(file)", "(file)", "expected a list"))
        raw_sources = []
    sources, source_issues = parse_records(
        Source,
        [
            (
                sources_file.name,
                str(raw.get("id", index)) if isinstance(raw, dict) else str(index),
                raw,
            )
            for index, raw in enumerate(raw_sources)
        ],
    )
    issues += source_issues
    records: list[tuple[str, str, Any]] = []
    for path in sorted((directory / "exercises").glob("*.y*ml")):
        relative = str(path.relative_to(directory))
        raw = _read_yaml(path, issues)
        if raw is not None:
            entry = str(raw.get("slug", path.stem)) if isinstance(raw, dict) else path.stem
            records.append((relative, entry, raw))
    exercises, exercise_issues = parse_records(Exercise, records)
    issues += exercise_issues
    file_of = {str(raw.get("slug")): file for file, _entry, raw in records if isinstance(raw, dict)}
    for exercise in exercises:
        expected = f"exercises/{exercise.slug}"
        if not file_of.get(exercise.slug, "").startswith(expected + "."):
            issues.append(
                ContentIssue(
                    file_of[exercise.slug], exercise.slug, "slug", "file name must be the slug"
                )
            )
    valid = {exercise.slug for exercise in exercises}
    issues += validate_bundle(sources, exercises, file_of, set(file_of) - valid)
    if issues:
        raise ContentInvalidError(issues)
    return ContentBundle(sources=sources, exercises=exercises)


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


def write_seed_directory(
    directory: Path, sources: list[Source], exercises: list[Exercise]
) -> list[Path]:
    """Write sources.yaml and exercises/<slug>.yaml in the seed format: the inverse of
    `load_seed_directory` (loading what this wrote gives equal records)."""
    (directory / "exercises").mkdir(parents=True, exist_ok=True)
    written = [directory / "sources.yaml"]
    _write_yaml(written[0], [canonical_document(source) for source in sources])
    for exercise in exercises:
        path = directory / "exercises" / f"{exercise.slug}.yaml"
        _write_yaml(path, canonical_document(exercise))
        written.append(path)
    return written


def _write_yaml(path: Path, document: Any) -> None:
    text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)
