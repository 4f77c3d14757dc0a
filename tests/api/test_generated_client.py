"""The contract as an integrator uses it: a Python client generated from the committed
openapi/openapi.json by openapi-python-client, and a scenario played with that client alone against
a real server: filters (no equipment among them), paging to the end with signed cursors,
conditional GETs, a routine, its feedback (with its delete token, retried with an
Idempotency-Key), its handout as a page and a PDF, its FHIR PlanDefinition, problems naming their
request, its deletion (410 for the routine, its feedback, handout and PlanDefinition), an editor's
edit and retirement with If-Match, and an offline app's sync through /v1/catalogue and
/v1/changes. Whatever the generated code cannot say (a parameter it drops, a header it cannot send,
a field it types as optional, a status it does not declare) fails here before an integrator meets
it."""

import base64
import importlib
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import attrs
import pytest
from openapi_python_client import generate
from openapi_python_client.config import Config, ConfigFile, MetaType
from openapi_python_client.parser.errors import ErrorLevel

from app.core.security import Role

CONTRACT = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"
PICTURES_AS_BYTES = {
    "image/png": "application/octet-stream",
    "image/svg+xml": "application/octet-stream",
}
"""The generator reads only JSON, text and octet-stream bodies: illustrations come as bytes."""
PACKAGE = "backcare_generated_client"

EXPECTED_GENERATOR_WARNINGS = {
    # A YAML bundle is a plain string body the generator does not model; the JSON one is.
    "POST /v1/admin/import": "Unsupported content type application/yaml",
}


@dataclass(frozen=True)
class GeneratedPackage:
    """The generated package, imported. Its code is untyped from here: every module is reached
    through `ModuleType`, whose attributes are `Any`."""

    name: str

    def operation(self, tag: str, operation_id: str) -> ModuleType:
        """The module of one operation: `sync_detailed(...)` and friends."""
        return importlib.import_module(f"{self.name}.api.{tag}.{operation_id}")

    @property
    def models(self) -> ModuleType:
        return importlib.import_module(f"{self.name}.models")

    @property
    def unset(self) -> Any:
        """The generated code's "not sent" value, which every optional argument defaults to."""
        return importlib.import_module(f"{self.name}.types").UNSET

    def client(self, base_url: str, token: str | None = None) -> Any:
        """A `Client` (or an `AuthenticatedClient` with a bearer token) that raises on any status
        the contract does not declare."""
        package = importlib.import_module(self.name)
        if token is None:
            return package.Client(base_url=base_url, raise_on_unexpected_status=True)
        return package.AuthenticatedClient(
            base_url=base_url, token=token, raise_on_unexpected_status=True
        )

    def optional_but_sent(self, parsed: Any) -> set[str]:
        """`Model.field` for each field of a parsed body, and of the models inside it, that the
        contract types as optional (`... | Unset`) and the server sent all the same."""
        if isinstance(parsed, list):
            return set().union(*(self.optional_but_sent(item) for item in parsed))
        if not attrs.has(type(parsed)):
            return set()
        found: set[str] = set()
        for field in attrs.fields(type(parsed)):
            value = getattr(parsed, field.name)
            if "Unset" in str(field.type) and value is not self.unset:
                found.add(f"{type(parsed).__name__}.{field.name}")
            found |= self.optional_but_sent(value)
        return found


def generator_warnings(output: Path) -> dict[str, str]:
    """Generate the client into `output` (no post-hooks: nothing to format, nothing fetched);
    return its warnings as {part of the document: what it could not do}."""
    config = Config.from_sources(
        ConfigFile(post_hooks=[], content_type_overrides=PICTURES_AS_BYTES),
        MetaType.NONE,
        document_source=CONTRACT,
        file_encoding="utf-8",
        overwrite=True,
        output_path=output,
    )
    warnings: dict[str, str] = {}
    for error in generate(config=config):
        assert error.level is ErrorLevel.WARNING, (error.header, error.detail)
        where = error.header.removeprefix("Unable to parse this part of your OpenAPI document: ")
        where = where.removeprefix("WARNING parsing ").split(" within ")[0]
        warnings[where] = error.detail or ""
    return warnings


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GeneratedPackage]:
    root = tmp_path_factory.mktemp("generated-client")
    warnings = generator_warnings(root / PACKAGE)
    assert warnings == EXPECTED_GENERATOR_WARNINGS
    sys.path.insert(0, str(root))
    try:
        yield GeneratedPackage(PACKAGE)
    finally:
        sys.path.remove(str(root))
        for name in [name for name in sys.modules if name.partition(".")[0] == PACKAGE]:
            del sys.modules[name]


def test_a_generated_client_plays_an_integrators_scenario(
    generated: GeneratedPackage,
    live_server: str,
    fresh_database_url: str,
    issue_key: Callable[[str, str, Role], dict[str, str]],
    seed_exercise_count: int,
) -> None:
    models = generated.models
    with generated.client(live_server) as client:
        revision, copy = first_download(generated, client)
        assert len(copy) == seed_exercise_count
        every_slug = page_to_the_end(generated, client, limit=5)
        assert every_slug == sorted(copy)

        filter_the_list(generated, client)
        nothing_but_the_body(generated, client)
        exercise = generated.operation("exercises", "get_exercise")
        first_read = revalidated(exercise, "cat-stretch", client=client)
        detail = first_read.parsed
        assert isinstance(detail, models.ExerciseDetail)
        assert (detail.slug, detail.version) == ("cat-stretch", 1)

        routine, outcome = routine_and_feedback(generated, client, live_server)
        handouts_and_plan(generated, client, routine.id)
        errors_name_their_request(generated, client)
    delete_with_its_token(generated, live_server, outcome.next_routine)

    editor = issue_key(fresh_database_url, "generated-client-editor", Role.editor)
    token = editor["Authorization"].removeprefix("Bearer ")
    with generated.client(live_server, token) as editor_client:
        edit_with_if_match(generated, editor_client, "cat-stretch")
        put_back(generated, editor_client, PUT_BACK)
        retire_with_if_match(generated, editor_client, RETIRED)

    with generated.client(live_server) as client:
        since_edited = exercise.sync_detailed(
            "cat-stretch", client=client, if_none_match=first_read.headers["etag"]
        )
        assert since_edited.status_code == 200, "a changed exercise no longer matches its old tag"
        detail = since_edited.parsed
        assert (detail.summary, detail.version) == (EDITED_SUMMARY, 2)

        changes = sync_changes(generated, client, since=revision, copy=copy)
        assert changes == [
            ("cat-stretch", models.SyncChange.PUBLISHED),
            (PUT_BACK, models.SyncChange.PUBLISHED),
            (RETIRED, models.SyncChange.RETIRED),
        ]
        assert as_dicts(copy) == as_dicts(first_download(generated, client)[1])
        assert copy["cat-stretch"].summary == EDITED_SUMMARY
        assert copy[PUT_BACK].name == PUT_BACK_NAME
        assert RETIRED not in copy

        full_sync: dict[str, Any] = {}
        sync_changes(generated, client, since=0, copy=full_sync)
        assert as_dicts(full_sync) == as_dicts(copy)

    # What is sent every time is required in the contract: an integrator never tests it for Unset.
    assert generated.optional_but_sent([detail, routine, outcome, *copy.values()]) == set()


UNSIGNED_CURSOR = base64.urlsafe_b64encode(b'{"after":"a"}').decode().rstrip("=")
"""Well formed, and what cursors were before signing (the last slug, base64): never signed."""


def page_to_the_end(generated: GeneratedPackage, client: Any, *, limit: int) -> list[str]:
    """Every published slug, following `next_cursor` page by page. A cursor is the server's own:
    one reused with other filters, or one written by hand, is refused (400)."""
    list_exercises = generated.operation("exercises", "list_exercises")
    slugs: list[str] = []
    cursors: list[str] = []
    cursor: Any = generated.unset
    while cursor is not None:
        response = list_exercises.sync_detailed(client=client, limit=limit, cursor=cursor)
        assert response.status_code == 200, response.content
        page = response.parsed
        assert len(page.items) <= limit
        slugs += [item.slug for item in page.items]
        cursor = page.next_cursor
        cursors += [cursor] if cursor is not None else []

    other_filters = list_exercises.sync_detailed(
        client=client, limit=limit, cursor=cursors[0], bed_friendly=True
    )
    handwritten = list_exercises.sync_detailed(client=client, limit=limit, cursor=UNSIGNED_CURSOR)
    for refused in (other_filters, handwritten):
        assert refused.status_code == 400, refused.content
        assert isinstance(refused.parsed, generated.models.Problem)
    return slugs


def filter_the_list(generated: GeneratedPackage, client: Any) -> None:
    models = generated.models
    list_exercises = generated.operation("exercises", "list_exercises")
    page = list_exercises.sync_detailed(
        client=client,
        safe_for=[models.Flag.FLEXION_SENSITIVE],
        max_level=models.Level.BEGINNER,
        target_area=[models.TargetArea.LOWER_BACK],
        limit=100,
    ).parsed
    assert page.items, "the filters leave something"
    revalidated(list_exercises, client=client, safe_for=[models.Flag.FLEXION_SENSITIVE], limit=5)
    for item in page.items:
        assert item.level == models.Level.BEGINNER
        assert models.Flag.FLEXION_SENSITIVE not in {c.flag for c in item.contraindications}
        assert models.TargetArea.LOWER_BACK in item.target_areas

    with_a_mat = list_exercises.sync_detailed(
        client=client, available_equipment=[models.Equipment.MAT], limit=100
    ).parsed
    assert with_a_mat.items
    assert all(set(item.equipment) <= {models.Equipment.MAT} for item in with_a_mat.items)


def nothing_but_the_body(generated: GeneratedPackage, client: Any) -> None:
    """No equipment, said as the contract allows (`available_equipment=none`), which a generated
    client keeps in the URL: never an exercise that needs a pool, or anything else."""
    models = generated.models
    list_exercises = generated.operation("exercises", "list_exercises")
    no_equipment = list_exercises.sync_detailed(
        client=client, available_equipment=["none"], limit=100
    ).parsed
    assert no_equipment.items
    assert all(item.equipment == [] for item in no_equipment.items)
    in_a_pool = list_exercises.sync_detailed(
        client=client, equipment=[models.Equipment.POOL], limit=100
    ).parsed
    assert in_a_pool.items
    assert not {item.slug for item in in_a_pool.items} & {item.slug for item in no_equipment.items}


def routine_and_feedback(
    generated: GeneratedPackage, client: Any, base_url: str
) -> tuple[Any, Any]:
    """A routine, then its feedback, given with the routine's delete token: both as parsed."""
    models = generated.models
    create_routine = generated.operation("routines", "create_routine")
    profile = models.Profile(
        sensitivity=models.Sensitivity.FLEXION_SENSITIVE, level=models.Level.BEGINNER, minutes=20
    )
    created = create_routine.sync_detailed(client=client, body=profile)
    assert created.status_code == 201, created.content
    routine = created.parsed
    assert isinstance(routine, models.RoutineCreated)
    assert created.headers["location"].endswith(f"/v1/routines/{routine.id}")
    assert routine.blocks
    assert routine.delete_token

    get_routine = generated.operation("routines", "get_routine")
    stored = revalidated(get_routine, routine.id, client=client).parsed
    assert stored.id == routine.id

    give_feedback = generated.operation("routines", "give_feedback")
    feedback = models.Feedback(
        pain_before=3, pain_after=3, completed=True, difficulty=models.Difficulty.RIGHT
    )
    anyone = give_feedback.sync_detailed(routine.id, client=client, body=feedback)
    assert anyone.status_code == 401, "the id only reads: feedback needs the delete token"
    key = str(uuid.uuid4())
    with generated.client(base_url, routine.delete_token) as owner:
        answer = give_feedback.sync_detailed(
            routine.id, client=owner, body=feedback, idempotency_key=key
        )
        retried = give_feedback.sync_detailed(
            routine.id, client=owner, body=feedback, idempotency_key=key
        )
    assert answer.status_code == 201, answer.content
    assert retried.status_code == 201, "a retried feedback replays its answer"
    assert retried.headers["idempotent-replayed"] == "true"
    assert retried.parsed.to_dict() == answer.parsed.to_dict()
    outcome = answer.parsed
    assert isinstance(outcome, models.FeedbackOut)
    assert outcome.recommendation in set(models.Recommendation)
    assert outcome.next_routine is not None
    assert outcome.next_routine.previous_routine_id == routine.id

    get_feedback = generated.operation("routines", "get_feedback")
    recorded = get_feedback.sync_detailed(routine.id, client=client).parsed
    assert recorded.next_routine_id == outcome.next_routine.id
    return routine, outcome


def delete_with_its_token(generated: GeneratedPackage, base_url: str, routine: Any) -> None:
    """The person deletes a routine with the token its creation returned; it is then gone (410):
    the routine, its feedback, its handout and its FHIR PlanDefinition, each a declared 410."""
    with generated.client(base_url, routine.delete_token) as owner:
        delete_routine = generated.operation("routines", "delete_routine")
        assert delete_routine.sync_detailed(routine.id, client=owner).status_code == 204
        for tag, operation in [
            ("routines", "get_routine"),
            ("routines", "get_feedback"),
            ("routines", "get_handout"),
        ]:
            gone = generated.operation(tag, operation).sync_detailed(routine.id, client=owner)
            assert gone.status_code == 410, operation
            assert isinstance(gone.parsed, generated.models.Problem), operation
            assert gone.parsed.request_id == gone.headers["x-request-id"]
        plan = generated.operation("fhir", "read_plan_definition")
        gone_plan = plan.sync_detailed(routine.id, client=owner)
        assert gone_plan.status_code == 410
        assert isinstance(gone_plan.parsed, generated.models.OperationOutcome)
        assert gone_plan.parsed.issue[0].code == "deleted"


def handouts_and_plan(generated: GeneratedPackage, client: Any, routine_id: str) -> None:
    """The handout as the page and as the PDF, each revalidated; the routine as FHIR."""
    get_handout = generated.operation("routines", "get_handout")
    models = generated.models
    page = revalidated(get_handout, routine_id, client=client, format_=models.GetHandoutFormat.HTML)
    assert page.headers["content-type"].startswith("text/html")
    assert page.parsed.startswith("<!DOCTYPE html>")
    pdf = revalidated(get_handout, routine_id, client=client, format_=models.GetHandoutFormat.PDF)
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    fhir_as_typed(generated, client, routine_id)


def fhir_as_typed(generated: GeneratedPackage, client: Any, routine_id: str) -> None:
    """The routine as FHIR, read through the generated models: the PlanDefinition's exercise
    actions name their ActivityDefinitions (`url|version`), which resolve by search; $apply
    makes a CarePlan whose activities instantiate the same definitions."""
    models = generated.models
    plan = revalidated(
        generated.operation("fhir", "read_plan_definition"), routine_id, client=client
    )
    assert isinstance(plan.parsed, models.PlanDefinition)
    exercises = [action for group in plan.parsed.action for action in group.action]
    # A tailored dose points at a contained definition (`#dose-...`); the others at the catalogue.
    exercise = next(item for item in exercises if not item.definition_canonical.startswith("#"))
    url, _, version = exercise.definition_canonical.partition("|")
    assert "/ActivityDefinition/" in url
    assert version.isdigit()
    search = generated.operation("fhir", "search_activity_definitions")
    found = search.sync_detailed(client=client, url_query=exercise.definition_canonical).parsed
    assert isinstance(found, models.ActivityDefinitionBundle)
    assert found.total == 1
    definition = found.entry[0].resource
    assert isinstance(definition, models.ActivityDefinition)
    assert (definition.url, definition.version) == (url, version)
    assert definition.dosage[0].text

    apply = generated.operation("fhir", "apply_plan_definition")
    care_plan = apply.sync_detailed(routine_id, client=client, subject="Patient/123").parsed
    assert isinstance(care_plan, models.CarePlan)
    assert care_plan.subject.reference == "Patient/123"
    instantiated = [activity.detail.instantiates_canonical[0] for activity in care_plan.activity]
    assert exercise.definition_canonical in instantiated


def errors_name_their_request(generated: GeneratedPackage, client: Any) -> None:
    """A problem is parsed as `Problem`, naming the field and the request (the client's id);
    a FHIR error as an `OperationOutcome`, whose diagnostics end with the request's id."""
    models = generated.models
    exercise = generated.operation("exercises", "get_exercise")
    missing = exercise.sync_detailed("no-such-exercise", client=client, x_request_id="py-404")
    assert missing.status_code == 404
    assert missing.parsed.request_id == missing.headers["x-request-id"] == "py-404"
    definition = generated.operation("fhir", "read_activity_definition")
    no_definition = definition.sync_detailed("no-such-exercise", client=client, x_request_id="f")
    assert no_definition.status_code == 404
    assert isinstance(no_definition.parsed, models.OperationOutcome)
    assert no_definition.parsed.issue[0].code == "not-found"
    assert no_definition.parsed.issue[0].diagnostics.endswith(" request_id=f")
    search = generated.operation("fhir", "search_observations")
    not_a_plan = search.sync_detailed(client=client, focus="Patient/1")
    assert not_a_plan.status_code == 400, not_a_plan.content
    assert isinstance(not_a_plan.parsed, models.OperationOutcome)
    assert not_a_plan.parsed.issue[0].code == "invalid"
    create_routine = generated.operation("routines", "create_routine")
    too_long = create_routine.sync_detailed(
        client=client, body=generated.models.Profile(minutes=500)
    )
    assert too_long.status_code == 422
    assert [error.field for error in too_long.parsed.errors] == ["minutes"]


EDITED_SUMMARY = "Edited through a generated client."


def edit_with_if_match(generated: GeneratedPackage, editor: Any, slug: str) -> None:
    """Read the editor's view for its ETag; a stale one is refused (412), the fresh one edits."""
    models = generated.models
    read = generated.operation("administration", "get_any_exercise")
    current = read.sync_detailed(slug, client=editor)
    assert current.status_code == 200, current.content
    etag = current.headers["etag"]

    patch = generated.operation("administration", "patch_exercise")
    body = models.ExerciseMergePatch(summary=EDITED_SUMMARY)
    stale = patch.sync_detailed(slug, client=editor, body=body, if_match='"999"')
    assert stale.status_code == 412
    assert isinstance(stale.parsed, models.Problem)

    edited = patch.sync_detailed(slug, client=editor, body=body, if_match=etag)
    assert edited.status_code == 200, edited.content
    assert edited.parsed.summary == EDITED_SUMMARY
    assert edited.headers["etag"] != etag


PUT_BACK = "wall-squat"
PUT_BACK_NAME = "Wall squat, put back whole"


def put_back(generated: GeneratedPackage, editor: Any, slug: str) -> None:
    """GET, change, PUT back: the generated `Exercise` (what PUT takes) is made from the document
    the editor read, which it takes whole but for the read-only fields it does not declare."""
    read = generated.operation("administration", "get_any_exercise").sync_detailed(
        slug, client=editor
    )
    document = generated.models.Exercise.from_dict(read.parsed.to_dict())
    document.name = PUT_BACK_NAME
    replace = generated.operation("administration", "replace_exercise")
    replaced = replace.sync_detailed(
        slug, client=editor, body=document, if_match=read.headers["etag"]
    )
    assert replaced.status_code == 200, replaced.content
    assert (replaced.parsed.name, replaced.parsed.version) == (PUT_BACK_NAME, 2)


RETIRED = "heel-slides"


def retire_with_if_match(generated: GeneratedPackage, editor: Any, slug: str) -> None:
    read = generated.operation("administration", "get_any_exercise")
    etag = read.sync_detailed(slug, client=editor).headers["etag"]
    retire = generated.operation("administration", "retire_exercise")
    retired = retire.sync_detailed(slug, client=editor, if_match=etag)
    assert retired.status_code == 200, retired.content
    assert retired.parsed.status == generated.models.Status.RETIRED


def first_download(generated: GeneratedPackage, client: Any) -> tuple[int, dict[str, Any]]:
    """The whole published catalogue in one document: its revision, and a copy by slug."""
    catalogue = revalidated(generated.operation("sync", "get_catalogue"), client=client).parsed
    return catalogue.revision, {item.slug: item for item in catalogue.items}


def sync_changes(
    generated: GeneratedPackage, client: Any, *, since: int, copy: dict[str, Any]
) -> list[tuple[str, Any]]:
    """Apply every change since `since` to `copy`, page by page, as an offline app would; return
    (slug, what happened) in the order they came."""
    list_changes = generated.operation("sync", "list_changes")
    seen: list[tuple[str, Any]] = []
    cursor: Any = generated.unset
    while True:
        response = list_changes.sync_detailed(client=client, since=since, limit=2, cursor=cursor)
        assert response.status_code == 200, response.content
        page = response.parsed
        for change in page.items:
            seen.append((change.slug, change.change))
            if change.exercise is None:
                copy.pop(change.slug, None)
            else:
                copy[change.slug] = change.exercise
        cursor = page.next_cursor
        if cursor is None:
            return seen


def as_dicts(copy: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {slug: exercise.to_dict() for slug, exercise in copy.items()}


def revalidated(operation: ModuleType, *arguments: Any, **parameters: Any) -> Any:
    """A GET's response, after checking that asking again with its ETag in If-None-Match is a 304
    with no body (the generated client parses it as None)."""
    first = operation.sync_detailed(*arguments, **parameters)
    assert first.status_code == 200, first.content
    etag = first.headers["etag"]
    again = operation.sync_detailed(*arguments, if_none_match=etag, **parameters)
    assert again.status_code == 304, again.content
    assert (again.content, again.parsed, again.headers["etag"]) == (b"", None, etag)
    return first
