"""Editing one exercise: the same validation as seed loading and import, optimistic concurrency
on the exercise's version, an audit entry per change. Callers own the transaction."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import yaml
from sqlmodel import Session

from app.content.bundle import (
    ContentIssue,
    Entry,
    Links,
    Place,
    dotted,
    entry_name,
    link_problems,
    load_yaml,
    parse_records,
)
from app.core.errors import (
    MAX_LISTED_ERRORS,
    ApiError,
    ConflictError,
    FieldError,
    NotFoundError,
    PreconditionFailedError,
    json_pointer,
)
from app.db.audit_queries import record_change
from app.db.catalogue_queries import (
    bump_revision,
    exercise_row,
    insert_exercise,
    linked_component,
    load_sources,
    update_exercise,
)
from app.db.models import ExerciseRow
from app.domain.catalogue import CatalogueEntry
from app.domain.exercise import Citation, Exercise, Source
from app.domain.vocabulary import Status

BODY = Place("body")
"""An edit's body: the exercise itself, so its fields are located from the body's root."""
CATALOGUE = Place("exercises")
"""Any exercise of the catalogue an edit would produce, located as the edited body is."""


class ContentRejectedError(ApiError):
    status = 422
    slug = "invalid-content"
    title = "Invalid content"
    description = (
        "The exercise or bundle breaks a content rule: an unknown vocabulary term, a flexion "
        "exercise not flagged flexion_sensitive, a citation or progression that does not "
        "resolve. `errors` names each entry and field, with its JSON Pointer. Nothing was "
        "written."
    )


def rejected(issues: Iterable[ContentIssue]) -> ContentRejectedError:
    """422 naming the first MAX_LISTED_ERRORS problems and counting all of them."""
    issues = list(issues)
    errors = [issue_field_error(issue) for issue in issues[:MAX_LISTED_ERRORS]]
    return ContentRejectedError(
        f"The change breaks {len(issues)} content rule(s); nothing was written.",
        errors,
        error_count=len(issues),
    )


def issue_field_error(issue: ContentIssue) -> FieldError:
    """The issue's field and pointer from the root of the document sent: `exercises.2.level` and
    `#/exercises/2/level` in an import, `level` and `#/level` in an edit."""
    if issue.location is None:
        return FieldError(
            location="body", field=issue.field, message=f"{issue.entry}: {issue.message}"
        )
    return FieldError(
        location="body",
        field=dotted(issue.location) or issue.field,
        pointer=json_pointer(issue.location),
        message=f"{issue.entry}: {issue.message}",
    )


def validate_in_catalogue(session: Session, candidate: Exercise, source_ids: set[str]) -> None:
    """The catalogue, with `candidate` in place, must pass the shared content rules.

    Stored exercises passed those rules when they were written, so only the candidate's
    citations and links, and the progression links of the exercises joined to it (its
    component, where a cycle it makes would be) are checked: one indexed query, whatever the
    size of the catalogue. Callers hold the catalogue's write lock, so no other edit changes
    the component meanwhile."""
    record = Links.of(candidate)
    targets = {*record.easier, *record.harder}
    component = linked_component(session, candidate.slug, targets, set(record.variants))
    records = [
        Links(
            slug=slug,
            easier=tuple(sorted(target for direction, target in links if direction == "easier")),
            harder=tuple(sorted(target for direction, target in links if direction == "harder")),
        )
        for slug, links in sorted(component.links.items())
    ]
    records.append(record)
    elsewhere = component.existing | component.links.keys()
    problems = link_problems(source_ids, records, elsewhere=elsewhere)
    if problems:
        raise rejected(
            ContentIssue.at(CATALOGUE, problem.slug, problem.path, problem.message)
            for problem in problems
        )


def parse_exercise(document: Any) -> Exercise:
    """An edit's body (the exercise itself) through the bundles' parser: 422 naming each field."""
    exercises, issues = parse_records(
        Exercise, [Entry(BODY, entry_name(document, "slug", "?"), document)]
    )
    if issues:
        raise rejected(issues)
    return exercises[0]


def parse_exercise_text(text: str) -> Exercise:
    """The exercise a YAML text describes (the admin pages' editor, in the seed file format)."""
    try:
        document = load_yaml(text)
    except yaml.YAMLError as error:
        raise ContentRejectedError(
            "The text is not valid YAML; nothing was written.",
            [FieldError(location="body", field="(document)", message=_yaml_problem(error))],
        ) from None
    if not isinstance(document, dict):
        raise ContentRejectedError(
            "The text must be a YAML mapping of the exercise's fields; nothing was written.",
            [FieldError(location="body", field="(document)", message="not a mapping")],
        )
    return parse_exercise(document)


def _yaml_problem(error: yaml.YAMLError) -> str:
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        mark = error.problem_mark
        return f"line {mark.line + 1}, column {mark.column + 1}: {error.problem}"
    return str(error).splitlines()[0]


def current_row(session: Session, slug: str) -> ExerciseRow:
    row = exercise_row(session, slug)
    if row is None:
        raise NotFoundError(f"No exercise has the slug {slug!r}.")
    return row


@dataclass(frozen=True)
class Saved:
    """An exercise as a write left it, with the sources its citations name: what the answer
    shows, made from what the write already read (nothing is read back)."""

    exercise: Exercise
    version: int
    sources: dict[str, Source]

    def entry(self) -> CatalogueEntry:
        return CatalogueEntry(self.exercise, self.version, self.sources)


class Edit:
    """One edit of a stored exercise: its row and the sources, each read once, then the write
    (revision, row, version, links and audit) in the caller's unit of work."""

    def __init__(self, session: Session, slug: str) -> None:
        self.session = session
        self.slug = slug
        self.row = current_row(session, slug)
        self.sources = sources_by_id(session)

    def require_version(self, expected_version: int | None) -> int:
        """The version the edit replaces: 412 when `expected_version` is no longer current."""
        version = self.row.version if expected_version is None else expected_version
        if self.row.version != version:
            raise stale(self.slug, self.row.version, version)
        return version

    def replace(self, exercise: Exercise, expected_version: int | None, actor: str) -> Saved:
        """Write `exercise` over the row if it is still at `expected_version` (None: any
        version). An exercise equal to the stored one writes nothing: no new version, no
        revision (so no entry in the changes feed, nothing for a syncing client to download
        again), no audit. Its media are the stored ones whatever `exercise` says: only the media
        edits change them."""
        slug = self.slug
        if exercise.slug != slug:
            raise rejected(
                [ContentIssue.at(BODY, slug, ("slug",), "must equal the slug in the path")]
            )
        version = self.require_version(expected_version)
        stored = self.stored()
        exercise = exercise.model_copy(update={"media": stored.media})
        if stored == exercise:
            return Saved(exercise, version, self.sources)
        revision = bump_revision(self.session)  # the write lock, before the links are read
        validate_in_catalogue(self.session, exercise, set(self.sources))
        action = (
            "retire"
            if exercise.status is Status.retired and stored.status is not Status.retired
            else "update"
        )
        return self.write(exercise, version, actor, action, revision)

    def stored(self) -> Exercise:
        return Exercise.model_validate(self.row.document)

    def write(
        self, exercise: Exercise, version: int, actor: str, action: str, revision: int
    ) -> Saved:
        """`exercise` as the next version over `version` (compare-and-set: 412 when another
        write won) at catalogue `revision`, audited as `action`."""
        before = self.row.document
        after = exercise.model_dump(mode="json")
        if not update_exercise(self.session, exercise, version, revision, before=before):
            raise stale(self.slug, None, version)
        record_change(self.session, actor, action, self.slug, before, after)
        return Saved(exercise, version + 1, self.sources)

    def replace_document(self, document: Any, expected_version: int | None, actor: str) -> Saved:
        """PUT's body: the exercise, as GET returned it or as the seed format writes it. What
        GET shows beside the exercise (its `version`, each citation's source details) is
        read-only: sent as GET showed it, it is ignored; changed, it is refused (422 naming it),
        so a client can GET, edit and PUT back the same document."""
        if expected_version is not None:
            self.require_version(expected_version)
        editable = without_read_only(self.row, self.sources, document)
        return self.replace(parse_exercise(editable), expected_version, actor)


def sources_by_id(session: Session) -> dict[str, Source]:
    return {source.id: source for source in load_sources(session)}


def create_exercise(session: Session, exercise: Exercise, actor: str) -> Saved:
    """Create under the catalogue's write lock (the revision bump), taken before the slug check,
    so a create racing another create or an import of the same slug is a 409, never a 500."""
    if exercise.media:
        raise rejected([ContentIssue.at(BODY, exercise.slug, ("media",), MEDIA_READ_ONLY)])
    revision = bump_revision(session)
    if exercise_row(session, exercise.slug) is not None:
        raise ConflictError(f"An exercise with the slug {exercise.slug!r} already exists.")
    sources = sources_by_id(session)
    validate_in_catalogue(session, exercise, set(sources))
    row = insert_exercise(session, exercise, revision)
    record_change(session, actor, "create", exercise.slug, None, row.document)
    return Saved(exercise, row.version, sources)


def replace_exercise(
    session: Session, slug: str, exercise: Exercise, expected_version: int | None, actor: str
) -> Saved:
    return Edit(session, slug).replace(exercise, expected_version, actor)


def replace_document(
    session: Session, slug: str, document: Any, expected_version: int | None, actor: str
) -> Saved:
    return Edit(session, slug).replace_document(document, expected_version, actor)


def patch_exercise(
    session: Session, slug: str, patch: dict[str, Any], expected_version: int | None, actor: str
) -> Saved:
    edit = Edit(session, slug)
    merged = merge_patch(edit.row.document, patch)
    return edit.replace_document(merged, expected_version, actor)


def retire_exercise(session: Session, slug: str, expected_version: int | None, actor: str) -> Saved:
    edit = Edit(session, slug)
    retired = Exercise.model_validate({**edit.row.document, "status": Status.retired.value})
    return edit.replace(retired, expected_version, actor)


SHOWN_READ_ONLY = frozenset({"media"})
"""Fields of the record an exercise's write keeps as stored: sent as GET showed them, ignored."""
MEDIA_READ_ONLY = (
    "read-only here: attach and remove images through /v1/exercises/{slug}/media (send it as "
    "GET gave it, or leave it out)"
)
EDITABLE = frozenset(Exercise.model_fields) - SHOWN_READ_ONLY
EDITABLE_IN_CITATION = frozenset(Citation.model_fields)


def without_read_only(row: ExerciseRow, sources: dict[str, Source], document: Any) -> Any:
    """`document` less the read-only fields GET shows, each equal to what GET shows; 422 naming
    each one that differs. Anything else unknown is left for the parser to refuse."""
    if not isinstance(document, dict):
        return document
    entry = CatalogueEntry(Exercise.model_validate(row.document), row.version, sources)
    shown = entry.detail()
    issues: list[ContentIssue] = []
    editable = {}
    for name, value in document.items():
        if name in SHOWN_READ_ONLY:
            if value not in (shown[name], row.document.get(name, [])):
                issues.append(ContentIssue.at(BODY, row.slug, (name,), MEDIA_READ_ONLY))
        elif name in EDITABLE or name not in shown:
            editable[name] = value
        elif value != shown[name]:
            issues.append(read_only(row.slug, (name,), shown[name]))
    citations = editable.get("citations")
    if isinstance(citations, list):
        editable["citations"] = [
            citation_without_read_only(entry, row.slug, index, citation, issues)
            for index, citation in enumerate(citations)
        ]
    if issues:
        raise rejected(issues)
    return editable


def citation_without_read_only(
    entry: CatalogueEntry, slug: str, index: int, citation: Any, issues: list[ContentIssue]
) -> Any:
    """A citation less its source's details (title...), each equal to that source's."""
    if not isinstance(citation, dict) or citation.keys() <= EDITABLE_IN_CITATION:
        return citation
    source = citation.get("source")
    shown = entry.cited(source, None) if source in entry.sources else {}
    editable = {}
    for name, value in citation.items():
        if name in EDITABLE_IN_CITATION or name not in shown:
            editable[name] = value
        elif value != shown[name]:
            issues.append(read_only(slug, ("citations", index, name), shown[name]))
    return editable


def read_only(slug: str, path: tuple[str | int, ...], shown: Any) -> ContentIssue:
    return ContentIssue.at(
        BODY,
        slug,
        path,
        f"read-only, and it is {shown!r} here: send it as GET gave it, or leave it out",
    )


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON Merge Patch: objects merge, null removes, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def stale(slug: str, current: int | None, expected: int) -> PreconditionFailedError:
    now = f" it is now at version {current}" if current is not None else " another change won"
    return PreconditionFailedError(
        f"{slug!r} changed since version {expected}:{now}. Fetch it again and reapply your edit."
    )
