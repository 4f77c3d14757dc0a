"""The read-only FHIR R4 facade at /fhir/r4: a thin router over `app.domain.fhir`.

Errors here are OperationOutcomes (see app.core.errors). Every route accepts `_format` and checks
`Accept`; unknown parameters are refused (FHIR's strict handling), never ignored. Reads carry
`ETag: W/"versionId"`, FHIR's own form, and answer `If-None-Match` with 304.
"""

import re
from collections.abc import Callable, Collection, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Annotated, Any
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Path, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import URL
from starlette.responses import JSONResponse, Response

from app.api.dependencies import current_activity_definitions, current_cursors, runtime_of
from app.api.fhir_schemas import ref, resource_type_of
from app.api.http_cache import matches_weakly
from app.api.routines import stored_routine
from app.api.routing import NegotiatingRoute, declared_query_names, ignored
from app.core import cursors
from app.core.errors import (
    FHIR_CONTENT_TYPE,
    FHIR_MEDIA_TYPE,
    FieldError,
    GoneError,
    InvalidParameterError,
    MethodNotAllowedError,
    NotAcceptableError,
    NotFoundError,
    NotSupportedError,
    outcome_responses,
)
from app.core.negotiation import best_match
from app.domain.catalogue import CatalogueEntry
from app.domain.fhir.activity import (
    PUBLICATION_STATUS_SYSTEM,
    PUBLICATION_STATUSES,
    ActivitySearch,
    BundleShape,
    Token,
    UpdatedBound,
    history_bundle,
    last_updated_bound,
    searchset,
)
from app.domain.fhir.apply import SUBJECT_PATTERN, care_plan
from app.domain.fhir.capability import (
    CAPABILITY_ID,
    FORMAT_PARAMETER,
    FORMATS,
    PAGING_PARAMETER,
    SEARCH_PARAMETERS,
    SERVED_TYPES,
    capability_statement,
)
from app.domain.fhir.common import Canonical, folded
from app.domain.fhir.feedback import (
    QUESTIONNAIRE_ID,
    feedback_questionnaire,
    pain_observations,
    questionnaire_response,
    routine_identifier,
)
from app.domain.fhir.plan import plan_definition
from app.domain.fhir.profiles import EXTENSIONS_BY_ID, structure_definition
from app.domain.fhir.questionnaire import (
    EVALUATE_ID,
    RED_FLAGS_ID,
    ScreeningError,
    evaluate_operation,
    red_flag_questionnaire,
    reported_flags,
    screening_outcome,
)
from app.domain.fhir.terminology import VOCABULARIES_BY_ID, code_system, value_set
from app.domain.timestamps import rfc3339
from app.services.content import ExerciseVersion

PREFIX = "/fhir/r4"
DEFAULT_COUNT = 20
MAXIMUM_COUNT = 100
OFFERED = (FHIR_MEDIA_TYPE, "application/json", "application/json+fhir")
"""What Accept may ask for: FHIR JSON, under each of its names."""


class FhirResponse(JSONResponse):
    """FHIR JSON, ready bytes (or a resource to encode). A JSONResponse, so the contract gives
    each answer the schema its operation names (`fhir_answers`), not a string's."""

    media_type = FHIR_MEDIA_TYPE
    """The type the contract lists; the header also names the charset (`FHIR_CONTENT_TYPE`)."""

    def render(self, content: Any) -> bytes:
        return content if isinstance(content, bytes) else orjson.dumps(content)

    def init_headers(self, headers: Mapping[str, str] | None = None) -> None:
        super().init_headers(headers)
        self.raw_headers = [
            (name, FHIR_CONTENT_TYPE.encode() if name == b"content-type" else value)
            for name, value in self.raw_headers
        ]


def acceptable(request: Request) -> None:
    """`_format` (json only) and `Accept` must allow FHIR JSON; otherwise 406."""
    requested = request.query_params.getlist(FORMAT_PARAMETER)
    for value in requested:
        # An unencoded `+` arrives as a space: `_format=application/fhir+json` as typed.
        if value.replace(" ", "+") not in FORMATS:
            raise NotAcceptableError(
                f"_format={value!r} is not served: only JSON ({', '.join(FORMATS)}).",
                [FieldError(location="query", field=FORMAT_PARAMETER, message="unsupported")],
            )
    accept = request.headers.get("accept")
    if accept and not requested and best_match(accept, OFFERED) is None:
        raise NotAcceptableError(f"Accept: {accept} is not served: only application/fhir+json.")


FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
"""FHIR's id type: 1-64 letters, digits, `-` and `.`."""


def valid_ids(request: Request) -> None:
    """A path id that is not a FHIR id is 400 `invalid` (never 422), before anything else."""
    for name in ("resource_id", "version_id"):
        value = request.path_params.get(name)
        if value is not None and value.startswith(("_", "$")):
            parts = [part for part in request.url.path.removeprefix(PREFIX).split("/") if part]
            raise NotSupportedError(f"Not supported: {interaction_named(request.method, parts)}.")
        if value is not None and not FHIR_ID.match(value):
            raise InvalidParameterError(
                f"{value[:70]!r} is not a FHIR id: 1-64 letters, digits, '-' and '.'.",
                [FieldError(location="path", field=name, message="not a FHIR id")],
            )


IGNORED_PARAMETERS = "backcare.fhir.ignored"
"""The request scope key of the parameters `Prefer: handling=lenient` had ignored."""


def lenient(request: Request) -> bool:
    """`Prefer: handling=lenient` (RFC 7240, as FHIR R4 uses it): ignore what is unsupported."""
    prefer = ",".join(request.headers.getlist("prefer")).replace(" ", "").lower()
    return "handling=lenient" in prefer.split(",")


def without_unknown(request: Request, allowed: frozenset[str]) -> Request:
    """The request less the query parameters the route does not take, which are remembered
    (`ignored_parameters`) so a searchset can say what it ignored."""
    items = request.query_params.multi_items()
    kept = [(name, value) for name, value in items if name in allowed or ignored(name)]
    dropped = sorted({name for name, _ in items if (name, _) not in kept})
    if not dropped:
        return request
    scope = {**request.scope, "query_string": urlencode(kept).encode(), IGNORED_PARAMETERS: dropped}
    return Request(scope, request.receive)


def ignored_parameters(request: Request) -> list[str]:
    found: list[str] = request.scope.get(IGNORED_PARAMETERS, [])
    return found


class FhirRoute(NegotiatingRoute):
    """Strict parameters (from StrictQueryRoute, unless the client prefers lenient handling),
    then the format check and the path's ids, before the handler."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        extra = (self.openapi_extra or {}).get("parameters", [])
        allowed = declared_query_names(self.dependant) | {
            parameter["name"] for parameter in extra if parameter.get("in") == "query"
        }

        async def fhir_handler(request: Request) -> Response:
            if request.query_params and lenient(request):
                request = without_unknown(request, allowed)
            acceptable(request)
            valid_ids(request)
            return await handler(request)

        return fhir_handler


router = APIRouter(
    prefix=PREFIX, tags=["fhir"], route_class=FhirRoute, default_response_class=FhirResponse
)


def canonical_of(request: Request) -> Canonical:
    return current_activity_definitions(request).canonical


def versioned(
    request: Request, body: bytes, version_id: str, last_updated: datetime | None = None
) -> Response:
    """The resource with its ETag (and Last-Modified, when it knows when it was written)."""
    etag = f'W/"{version_id}"'
    headers = {"ETag": etag}
    if last_updated is not None:
        headers["Last-Modified"] = format_datetime(last_updated.astimezone(UTC), usegmt=True)
    if_none_match = request.headers.get("if-none-match")
    if if_none_match and matches_weakly(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    return FhirResponse(body, headers=headers)


def resource_response(request: Request, resource: dict[str, Any]) -> Response:
    meta = resource["meta"]
    updated = meta.get("lastUpdated")
    moment = datetime.fromisoformat(updated.replace("Z", "+00:00")) if updated else None
    return versioned(request, orjson.dumps(resource), meta["versionId"], moment)


FORMAT_PARAMETER_DOC: dict[str, Any] = {
    "name": FORMAT_PARAMETER,
    "in": "query",
    "required": False,
    "description": "Response format: JSON only (application/fhir+json).",
    "schema": {"type": "string", "enum": list(FORMATS)},
    "example": "json",
}


OUTCOME_STATUSES = frozenset({400, 404, 406, 422, 503})
"""What every FHIR operation may refuse with: a parameter or id it does not take (400), an
unknown resource (404), an Accept or `_format` it does not serve (406), a value FastAPI's own
validation refuses (422), and no database or snapshot (503)."""
BODY_STATUSES = frozenset({413, 415})
"""What an operation that reads a body may refuse with besides: too large, or encoded."""

Endpoint = Callable[..., Coroutine[Any, Any, Response]]


def fhir_answers(
    method: str, resource: str, refusals: Iterable[int] = ()
) -> dict[int | str, dict[str, Any]]:
    """An operation's answers: the resource (its component schema, `app.api.fhir_schemas`), a
    304 for a GET, and OperationOutcomes for the refusals every operation may give and
    `refusals`."""
    statuses = OUTCOME_STATUSES | set(refusals) | (BODY_STATUSES if method == "post" else set())
    answers: dict[int | str, dict[str, Any]] = {
        200: {
            "description": f"A FHIR R4 {resource_type_of(resource)}",
            "content": {FHIR_MEDIA_TYPE: {"schema": ref(resource)}},
        }
    }
    if method == "get":
        answers[304] = {"description": "Not modified: the If-None-Match ETag is current"}
    return {**answers, **outcome_responses(*sorted(statuses))}


def fhir_operation(
    method: str,
    path: str,
    resource: str,
    *,
    summary: str,
    description: str,
    refusals: Iterable[int] = (),
    parameters: Sequence[dict[str, Any]] = (FORMAT_PARAMETER_DOC,),
    body: str | None = None,
    name: str | None = None,
) -> Callable[[Endpoint], Endpoint]:
    """Declare a FHIR operation in one place: its path, what it answers (`resource`, a component
    schema) and refuses (`fhir_answers`), its query parameters, and the resource a POST takes
    (`body`, a component schema)."""
    extra: dict[str, Any] = {"parameters": list(parameters)}
    if body is not None:
        extra["requestBody"] = {
            "required": True,
            "content": {FHIR_MEDIA_TYPE: {"schema": ref(body)}},
        }
    return router.api_route(
        path,
        methods=[method.upper()],
        name=name,
        summary=summary,
        description=description,
        responses=fhir_answers(method, resource, refusals),
        openapi_extra=extra,
    )


ID_PATTERN = r"^[A-Za-z0-9\-.]{1,64}$"
"""A FHIR id, as the contract states it (one starting with `_` or `$` would name an
interaction: see `valid_ids`)."""
ResourceId = Annotated[str, Path(max_length=64, pattern=ID_PATTERN, examples=["cat-stretch"])]


@fhir_operation(
    "get",
    "/metadata",
    "CapabilityStatement",
    summary="FHIR CapabilityStatement",
    description="Exactly what the facade serves: read-only interactions, the ActivityDefinition "
    "search parameters, JSON only.",
)
async def fhir_capabilities(request: Request) -> Response:
    return resource_response(request, current_capability_statement(request))


def current_capability_statement(request: Request) -> dict[str, Any]:
    return capability_statement(canonical_of(request), request.app.version)


ALTERNATIVES = r"^[^,]+(,[^,]+)*$"
LAST_UPDATED_PATTERN = (
    r"^(eq|gt|ge|lt|le)?[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])"
    r"(T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?(Z|[+-]0[0-9]:00)?)?$"
)
"""A date or dateTime, as the contract states it (the 29th to 31st are valid too, but a
generator would make 30 February of them)."""
ELEMENTS_PATTERN = r"^[a-z][A-Za-z0-9]*(,[a-z][A-Za-z0-9]*)*$"
"""Comma-separated alternatives, none empty."""
STATUS_CODES = "(" + "|".join(sorted(PUBLICATION_STATUSES)) + ")"
STATUS_TOKEN = f"([^|,]*\\|{STATUS_CODES}?|{STATUS_CODES})"
"""`code`, `system|code` or `system|` (every status)."""
SEARCH_PATTERNS = {
    "_id": r"^[A-Za-z0-9\-.]{1,64}(,[A-Za-z0-9\-.]{1,64})*$",
    "status": f"^{STATUS_TOKEN}(,{STATUS_TOKEN})*$",
}
SEARCH_PARAMETERS_DOC: list[dict[str, Any]] = [
    {
        "name": parameter.name,
        "in": "query",
        "required": False,
        "description": parameter.documentation,
        "schema": {
            "type": "string",
            "maxLength": 200,
            "pattern": SEARCH_PATTERNS.get(parameter.name, ALTERNATIVES),
        },
        "example": example,
    }
    for parameter, example in zip(
        SEARCH_PARAMETERS,
        [
            "cat-stretch",
            "Cat",
            "stretch",
            "https://backcare.example/fhir/r4/ActivityDefinition/cat-stretch",
            "active",
        ],
        strict=True,
    )
] + [
    {
        "name": "_count",
        "in": "query",
        "required": False,
        "description": "Page size, 0-100 (default 20; larger values are served as 100).",
        "schema": {"type": "integer", "minimum": 0},
        "example": 20,
    },
    {
        "name": PAGING_PARAMETER,
        "in": "query",
        "required": False,
        "description": "Opaque: follow the Bundle's `next` link rather than building it.",
        "schema": {"type": "string", "maxLength": cursors.MAX_LENGTH, "pattern": cursors.PATTERN},
    },
    {
        "name": "_lastUpdated",
        "in": "query",
        "required": False,
        "description": "When the version served was written: a date or dateTime with an "
        "optional prefix (eq, gt, ge, lt, le); repeat it for a range (`ge2026-12-01&"
        "_lastUpdated=lt2026-12-08`). For incremental sync.",
        "schema": {"type": "string", "maxLength": 40, "pattern": LAST_UPDATED_PATTERN},
        "example": "ge2026-12-01",
    },
    {
        "name": "_summary",
        "in": "query",
        "required": False,
        "description": "`count`: the total alone, no entries.",
        "schema": {"type": "string", "enum": ["count"]},
    },
    {
        "name": "_total",
        "in": "query",
        "required": False,
        "description": "`none` leaves `total` out; `estimate` and `accurate` give it (exact).",
        "schema": {"type": "string", "enum": ["none", "estimate", "accurate"]},
    },
    {
        "name": "_elements",
        "in": "query",
        "required": False,
        "description": "Only these top-level elements of each resource (with `id` and `meta`, "
        "tagged SUBSETTED).",
        "schema": {"type": "string", "maxLength": 300, "pattern": ELEMENTS_PATTERN},
        "example": "title,version",
    },
    FORMAT_PARAMETER_DOC,
]


def single(request: Request, name: str) -> str | None:
    values = request.query_params.getlist(name)
    if len(values) > 1:
        raise invalid(name, "give it once")
    return values[0] if values else None


def invalid(name: str, message: str) -> InvalidParameterError:
    return InvalidParameterError(
        f"The search parameter {name} is invalid: {message}.",
        [FieldError(location="query", field=name, message=message)],
    )


def alternatives(request: Request, name: str) -> list[list[str]]:
    """Each occurrence of the parameter, split on FHIR's comma (OR)."""
    occurrences = []
    for value in request.query_params.getlist(name):
        parts = value.split(",")
        if not all(parts):
            raise invalid(name, "empty value")
        occurrences.append(parts)
    return occurrences


def token(value: str) -> Token:
    """`code`, `system|code` or `system|` (every code of that system: code "")."""
    system, bar, code = value.rpartition("|")
    return (system if bar else None, code)


def canonical_value(value: str) -> tuple[str, str | None]:
    url, bar, version = value.partition("|")
    return (url, version if bar else None)


def status_codes(values: list[str]) -> frozenset[str]:
    """The publication statuses a `status` occurrence asks for: `code`, `system|code`, or
    `system|` for all of them; another system asks for none of ours."""
    codes: set[str] = set()
    for value in values:
        system, code = token(value)
        if system is not None and system != PUBLICATION_STATUS_SYSTEM:
            continue
        if code and code not in PUBLICATION_STATUSES:
            raise invalid("status", f"not a publication status: {code}")
        codes |= {code} if code else set(PUBLICATION_STATUSES)
    return frozenset(codes)


def page_size(request: Request) -> int:
    count_text = single(request, "_count")
    if count_text is None:
        return DEFAULT_COUNT
    if not count_text.isdigit():
        raise invalid("_count", "not a whole number of at least 0")
    return min(int(count_text), MAXIMUM_COUNT)


def activity_search(request: Request) -> ActivitySearch:
    return ActivitySearch(
        ids=tuple(frozenset(values) for values in alternatives(request, "_id")),
        names=tuple(
            tuple(folded(value) for value in values) for values in alternatives(request, "name")
        ),
        topics=tuple(
            frozenset(token(value) for value in values) for values in alternatives(request, "topic")
        ),
        urls=tuple(
            frozenset(canonical_value(value) for value in values)
            for values in alternatives(request, "url")
        ),
        statuses=tuple(status_codes(values) for values in alternatives(request, "status")),
        last_updated=tuple(
            updated_bound(value) for value in request.query_params.getlist("_lastUpdated")
        ),
        count=0 if summary_count(request) else page_size(request),
    )


def updated_bound(value: str) -> UpdatedBound:
    try:
        return last_updated_bound(value)
    except ValueError:
        raise invalid("_lastUpdated", "[eq|gt|ge|lt|le]YYYY-MM-DD or a dateTime") from None


def summary_count(request: Request) -> bool:
    """`_summary=count`: the total alone. Other summaries are not served."""
    summary = single(request, "_summary")
    if summary not in (None, "count"):
        raise NotSupportedError(
            f"_summary={summary} is not supported: only _summary=count.",
            [FieldError(location="query", field="_summary", message="only count")],
        )
    return summary == "count"


def with_total(request: Request) -> bool:
    """`_total`: `none` leaves the total out; `estimate` and `accurate` give it (exact)."""
    total = single(request, "_total")
    if total not in (None, "none", "estimate", "accurate"):
        raise invalid("_total", "none, estimate or accurate")
    return total != "none"


def elements_wanted(request: Request) -> frozenset[str] | None:
    values = alternatives(request, "_elements")
    if not values:
        return None
    wanted = frozenset(name for occurrence in values for name in occurrence)
    if not all(ELEMENT_NAME.match(name) for name in wanted):
        raise invalid("_elements", "top-level element names, comma-separated")
    return wanted


ELEMENT_NAME = re.compile(r"^[a-z][A-Za-z0-9]*(\[x\])?$")
USED_IN_SELF = frozenset(
    {parameter.name for parameter in SEARCH_PARAMETERS}
    | {"_lastUpdated", "_summary", "_total", "_elements", PAGING_PARAMETER, FORMAT_PARAMETER}
)


def self_link(request: Request, count: int) -> str:
    """This page's URL as served: the parameters used (never an ignored one, nor `utm_*` or
    `_`), `_count` as it was applied (capped)."""
    used = [
        (name, value) for name, value in request.query_params.multi_items() if name in USED_IN_SELF
    ]
    if "_count" in request.query_params:
        used.append(("_count", str(count)))
    query = urlencode(used)
    return f"{fhir_base(request)}/ActivityDefinition" + (f"?{query}" if query else "")


@fhir_operation(
    "get",
    "/ActivityDefinition",
    "ActivityDefinitionBundle",
    summary="Search ActivityDefinitions",
    description="A searchset Bundle of published exercises in id order, `total` matches, pages "
    "of `_count` with a `next` link. A comma separates alternatives; a repeated parameter "
    "must match too. Modifiers and other parameters are refused with an OperationOutcome.",
    parameters=SEARCH_PARAMETERS_DOC,
)
async def search_activity_definitions(request: Request) -> Response:
    """The hot path: every resource is ready bytes; the Bundle is joined around them."""
    search = activity_search(request)
    signer = current_cursors(request)
    scope = cursors.scope_of(cursors.filters_of(search, "after_id", "count"))
    cursor = single(request, PAGING_PARAMETER)
    if cursor is not None:
        after = signer.read(cursor, scope, cursors.slug_position, PAGING_PARAMETER)
        search = replace(search, after_id=after)
    definitions = current_activity_definitions(request)
    page = definitions.search(
        search, await kept_versions(request, definitions.versions_wanted(search))
    )
    self_url = self_link(request, page_size(request))
    next_url = None
    if page.next_after is not None:
        next_cursor = signer.issue(page.next_after, scope)
        next_url = str(URL(self_url).include_query_params(**{PAGING_PARAMETER: next_cursor}))
    shape = BundleShape(
        total=with_total(request),
        elements=elements_wanted(request),
        ignored=tuple(ignored_parameters(request)),
    )
    return FhirResponse(searchset(fhir_base(request), page, self_url, next_url, shape))


@fhir_operation(
    "get",
    "/ActivityDefinition/{resource_id}",
    "ActivityDefinition",
    summary="Read an ActivityDefinition",
    description="One published exercise (id = slug): steps, cited dosages, body sites, "
    'contraindications, cautions and citations. `ETag: W/"version"`.',
)
async def read_activity_definition(resource_id: ResourceId, request: Request) -> Response:
    definitions = current_activity_definitions(request)
    entry = definitions.get(resource_id)
    if entry is None:
        raise NotFoundError(f"No ActivityDefinition has the id {resource_id!r}.")
    body = definitions.resource_json(entry)
    return versioned(request, body, str(entry.version), entry.updated_at)


async def kept_versions(request: Request, wanted: set[tuple[str, int]]) -> list[CatalogueEntry]:
    """The kept versions a `url|version` search names beyond the current snapshot."""
    content = runtime_of(request).content
    found: list[CatalogueEntry] = []
    for slug, version in sorted(wanted):
        found += [item.entry for item in await run_in_threadpool(content.versions, slug, version)]
    return found


async def exercise_versions(
    request: Request, resource_id: str, version: int | None = None
) -> list[ExerciseVersion]:
    return await run_in_threadpool(runtime_of(request).content.versions, resource_id, version)


@fhir_operation(
    "get",
    "/ActivityDefinition/{resource_id}/_history",
    "ActivityDefinitionBundle",
    summary="An ActivityDefinition's history",
    description="A `history` Bundle of every version of the exercise that was published (or "
    "retired it), newest first. Older versions stay readable, so a routine's "
    "`url|version` keeps resolving after the exercise is edited.",
)
async def activity_definition_history(resource_id: ResourceId, request: Request) -> Response:
    versions = await exercise_versions(request, resource_id)
    if not versions:
        raise NotFoundError(f"No ActivityDefinition has the id {resource_id!r}.")
    definitions = current_activity_definitions(request)
    bundle = history_bundle(
        fhir_base(request),
        str(request.url),
        [(definitions.resource(item.entry), rfc3339(item.recorded_at)) for item in versions],
    )
    return FhirResponse(orjson.dumps(bundle))


@fhir_operation(
    "get",
    "/ActivityDefinition/{resource_id}/_history/{version_id}",
    "ActivityDefinition",
    summary="Read one version of an ActivityDefinition (vread)",
    description="The exercise as that version had it: what a `url|version` canonical names. "
    "Versions never published (drafts) are not served.",
)
async def vread_activity_definition(
    resource_id: ResourceId,
    version_id: Annotated[str, Path(max_length=64, pattern=ID_PATTERN)],
    request: Request,
) -> Response:
    found = (
        await exercise_versions(request, resource_id, int(version_id))
        if version_id.isdigit() and len(version_id) <= 9
        else []
    )
    if not found:
        raise NotFoundError(
            f"The ActivityDefinition {resource_id!r} has no version {version_id!r}."
        )
    definitions = current_activity_definitions(request)
    entry = found[0].entry
    return versioned(request, definitions.resource_json(entry), version_id, entry.updated_at)


def fhir_base(request: Request) -> str:
    return f"{str(request.base_url).rstrip('/')}{PREFIX}"


@fhir_operation(
    "get",
    "/PlanDefinition/{resource_id}",
    "PlanDefinition",
    summary="Read a PlanDefinition",
    description="A stored routine (id = routine id): blocks as action groups in order, each "
    "exercise pointing at its ActivityDefinition as `url|version` at the version the routine "
    "holds. A referral has no exercise actions, only the referral advice. A deleted routine is "
    "a 410.",
    refusals=[410],
)
async def read_plan_definition(resource_id: ResourceId, request: Request) -> Response:
    stored = await stored_routine(request, resource_id)
    return resource_response(request, plan_definition(canonical_of(request), orjson.loads(stored)))


async def fhir_body(request: Request) -> Any:
    """The request's FHIR JSON body; 400 `invalid` naming the body when it is not JSON."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in OFFERED:
        raise InvalidParameterError(
            "The body must be FHIR JSON (Content-Type: application/fhir+json).",
            [FieldError(location="header", field="content-type", message="not FHIR JSON")],
        )
    try:
        return orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        raise InvalidParameterError(
            "The body is not JSON.", [FieldError(location="body", field="body", message="not JSON")]
        ) from None


@fhir_operation(
    "post",
    f"/Questionnaire/{RED_FLAGS_ID}/$evaluate",
    "Parameters",
    body="QuestionnaireResponse",
    summary="Screen a red-flag QuestionnaireResponse",
    description="Answers a QuestionnaireResponse to `Questionnaire/red-flags` with what `POST "
    "/v1/routines` decides from the same red flags (without a clinician's clearance): a "
    "Parameters resource with `outcome` (`refer` or `routine`) and, for `refer`, the most "
    "urgent flag's `urgency` and `advice` and each `redFlag`. Nothing is stored.",
)
async def evaluate_red_flags(request: Request) -> Response:
    canonical = canonical_of(request)
    try:
        reported = reported_flags(canonical, await fhir_body(request))
    except ScreeningError as error:
        raise InvalidParameterError(
            f"Not an answered red-flag screening: {error.field} {error}.",
            [FieldError(location="body", field=error.field, message=str(error))],
        ) from None
    return FhirResponse(orjson.dumps(screening_outcome(canonical, reported)))


SUBJECT_DOC: dict[str, Any] = {
    "name": "subject",
    "in": "query",
    "required": False,
    "description": "Who the plan is for: a Patient or Group reference. Not stored.",
    "schema": {"type": "string", "maxLength": 500, "pattern": SUBJECT_PATTERN.pattern},
    "example": "Patient/123",
}


def apply_subject(values: list[str]) -> str | None:
    if len(values) > 1:
        raise invalid("subject", "give it once")
    if values and not SUBJECT_PATTERN.match(values[0]):
        raise invalid("subject", "not a Patient or Group reference (Patient/{id})")
    return values[0] if values else None


def parameters_subject(body: Any) -> list[str]:
    """The `subject` of an $apply Parameters body; 400 for anything else in it."""
    if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
        raise InvalidParameterError(
            "The body must be a Parameters resource.",
            [FieldError(location="body", field="resourceType", message="must be Parameters")],
        )
    subjects = []
    for parameter in body.get("parameter", []):
        name = parameter.get("name") if isinstance(parameter, dict) else None
        value = (
            parameter.get("valueString") or parameter.get("valueReference", {}).get("reference")
            if isinstance(parameter, dict)
            else None
        )
        if name != "subject" or not isinstance(value, str):
            raise InvalidParameterError(
                f"Only a subject (valueString or valueReference) is taken, not {name!r}.",
                [FieldError(location="body", field=f"parameter.{name}", message="not supported")],
            )
        subjects.append(value)
    return subjects


async def applied(request: Request, resource_id: str, subject: str | None) -> Response:
    stored = await stored_routine(request, resource_id)
    plan = plan_definition(canonical_of(request), orjson.loads(stored))
    return FhirResponse(orjson.dumps(care_plan(plan, subject)))


APPLY_DESCRIPTION = (
    "The routine as a CarePlan proposal for `subject` (a Patient or Group reference; without "
    "it the CarePlan names nobody): one activity per exercise, in order, each instantiating the "
    "definition its action names, the tailored ones contained. Nothing is stored."
)


@fhir_operation(
    "get",
    "/PlanDefinition/{resource_id}/$apply",
    "CarePlan",
    refusals=[410],
    summary="Apply a PlanDefinition",
    description=APPLY_DESCRIPTION,
    parameters=[SUBJECT_DOC, FORMAT_PARAMETER_DOC],
)
async def apply_plan_definition(resource_id: ResourceId, request: Request) -> Response:
    subject = apply_subject(request.query_params.getlist("subject"))
    return await applied(request, resource_id, subject)


@fhir_operation(
    "post",
    "/PlanDefinition/{resource_id}/$apply",
    "CarePlan",
    body="Parameters",
    refusals=[410],
    summary="Apply a PlanDefinition (Parameters body)",
    description=APPLY_DESCRIPTION + " The body is a Parameters resource with at most a `subject`.",
)
async def apply_plan_definition_with_parameters(
    resource_id: ResourceId, request: Request
) -> Response:
    subject = apply_subject(parameters_subject(await fhir_body(request)))
    return await applied(request, resource_id, subject)


async def stored_feedback(request: Request, routine_id: str) -> dict[str, Any]:
    return await runtime_of(request).routines.feedback(routine_id)


@fhir_operation(
    "get",
    "/QuestionnaireResponse/{resource_id}",
    "QuestionnaireResponse",
    refusals=[410],
    summary="Read a session's feedback as a QuestionnaireResponse",
    description="The feedback on the routine with this id, as answers to "
    "`Questionnaire/session-feedback`; its `identifier` names the routine.",
)
async def read_questionnaire_response(resource_id: ResourceId, request: Request) -> Response:
    feedback = await stored_feedback(request, resource_id)
    return resource_response(request, questionnaire_response(canonical_of(request), feedback))


def routine_of_identifier(request: Request, value: str) -> str | None:
    """The routine id an identifier names; None for another system (which names none)."""
    system, bar, routine_id = value.rpartition("|")
    expected = routine_identifier(canonical_of(request), "")["system"]
    return None if bar and system != expected else routine_id


@fhir_operation(
    "get",
    "/QuestionnaireResponse",
    "QuestionnaireResponseBundle",
    summary="Search session feedback by routine",
    description="`identifier=[system|]routine-id`: a searchset Bundle of the feedback on that "
    "routine (none or one).",
    parameters=[
        {
            "name": "identifier",
            "in": "query",
            "required": True,
            "description": "The routine id, optionally after the PlanDefinition system.",
            "schema": {
                "type": "string",
                "maxLength": 300,
                "pattern": r"^([^|]*\|)?[A-Za-z0-9\-.]{1,64}$",
            },
        },
        FORMAT_PARAMETER_DOC,
    ],
)
async def search_questionnaire_responses(request: Request) -> Response:
    value = single(request, "identifier")
    if value is None:
        raise invalid("identifier", "required: the routine id")
    routine_id = routine_of_identifier(request, value)
    found = None if routine_id is None else await feedback_or_none(request, routine_id)
    canonical = canonical_of(request)
    resources = [] if found is None else [questionnaire_response(canonical, found)]
    return FhirResponse(orjson.dumps(bundle_of(request, resources)))


async def feedback_or_none(request: Request, routine_id: str) -> dict[str, Any] | None:
    try:
        return await stored_feedback(request, routine_id)
    except (NotFoundError, GoneError):
        return None


def bundle_of(request: Request, resources: list[dict[str, Any]]) -> dict[str, Any]:
    base = fhir_base(request)
    entries = [
        {
            "fullUrl": f"{base}/{resource['resourceType']}/{resource['id']}",
            "resource": resource,
            "search": {"mode": "match"},
        }
        for resource in resources
    ]
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(entries),
        "link": [{"relation": "self", "url": used_url(request)}],
        "entry": entries,
    }
    return {key: value for key, value in bundle.items() if value != []}


def used_url(request: Request) -> str:
    """The request's URL on the FHIR base, less what the web adds (`utm_*`, `_`)."""
    used = [
        (name, value) for name, value in request.query_params.multi_items() if not ignored(name)
    ]
    path = f"{fhir_base(request)}{request.url.path.removeprefix(PREFIX)}"
    return path + (f"?{urlencode(used)}" if used else "")


@fhir_operation(
    "get",
    "/Observation/{resource_id}",
    "Observation",
    summary="Read a pain rating",
    description="`{routine-id}-pain-before` or `{routine-id}-pain-after`: a 0-10 pain rating "
    "from the feedback on that routine, its `focus` the PlanDefinition.",
)
async def read_observation(resource_id: ResourceId, request: Request) -> Response:
    routine_id = resource_id.rsplit("-pain-", 1)[0]
    found = await feedback_or_none(request, routine_id)
    observations = [] if found is None else pain_observations(canonical_of(request), found)
    for observation in observations:
        if observation["id"] == resource_id:
            return resource_response(request, observation)
    raise NotFoundError(f"No Observation has the id {resource_id!r}.")


@fhir_operation(
    "get",
    "/Observation",
    "ObservationBundle",
    summary="Search pain ratings by routine",
    description="`focus=PlanDefinition/{routine-id}`: the pain ratings before and after the "
    "session of that routine (none until feedback is given). Follow a routine chain to chart "
    "pain across sessions.",
    parameters=[
        {
            "name": "focus",
            "in": "query",
            "required": True,
            "description": "PlanDefinition/{routine-id}",
            "schema": {
                "type": "string",
                "maxLength": 120,
                "pattern": r"^PlanDefinition/[A-Za-z0-9\-.]{1,64}$",
            },
            "example": "PlanDefinition/8d54d5f3-ce9d-4c5e-bde8-6a563e13b214",
        },
        FORMAT_PARAMETER_DOC,
    ],
)
async def search_observations(request: Request) -> Response:
    focus = single(request, "focus")
    if focus is None or not focus.startswith("PlanDefinition/"):
        raise invalid("focus", "required: PlanDefinition/{routine id}")
    found = await feedback_or_none(request, focus.removeprefix("PlanDefinition/"))
    observations = [] if found is None else pain_observations(canonical_of(request), found)
    return FhirResponse(orjson.dumps(bundle_of(request, observations)))


@dataclass(frozen=True)
class Definitions:
    """A resource type whose resources are made from code, read by id: the ids it knows and how
    to build each for the request."""

    resource_type: str
    operation: str
    summary: str
    description: str
    known: Collection[str]
    build: Callable[[Request, str], dict[str, Any]]


QUESTIONNAIRES = {RED_FLAGS_ID: red_flag_questionnaire, QUESTIONNAIRE_ID: feedback_questionnaire}
VOCABULARY_IDS = "target-area, position, equipment, level, sensitivity-flag, spinal-motion"

DEFINITIONS = (
    Definitions(
        "CapabilityStatement",
        "read_capability_statement",
        "Read the CapabilityStatement at its canonical URL",
        f"`{CAPABILITY_ID}`: the same statement as `/metadata`, where its `url` points.",
        (CAPABILITY_ID,),
        lambda request, _: current_capability_statement(request),
    ),
    Definitions(
        "OperationDefinition",
        "read_operation_definition",
        "Read an OperationDefinition",
        f"`{EVALUATE_ID}`: the red-flag screening's `$evaluate`, its input and the Parameters "
        "it answers with.",
        (EVALUATE_ID,),
        lambda request, _: evaluate_operation(canonical_of(request)),
    ),
    Definitions(
        "StructureDefinition",
        "read_structure_definition",
        "Read a StructureDefinition",
        "The definition of an extension the resources here use, at its canonical URL "
        "(`exercise-contraindication`: a flag and its reason on an ActivityDefinition).",
        EXTENSIONS_BY_ID,
        lambda request, found: structure_definition(canonical_of(request), found),
    ),
    Definitions(
        "Questionnaire",
        "read_questionnaire",
        "Read a Questionnaire",
        "`red-flags`: the screening to ask before offering a routine, one boolean question per "
        "red flag, coded with its urgency. `session-feedback`: the questions feedback on a "
        "session answers.",
        QUESTIONNAIRES,
        lambda request, found: QUESTIONNAIRES[found](canonical_of(request)),
    ),
    Definitions(
        "CodeSystem",
        "read_code_system",
        "Read a CodeSystem",
        f"One of our vocabularies ({VOCABULARY_IDS} and the others named in the "
        "CapabilityStatement).",
        VOCABULARIES_BY_ID,
        lambda request, found: code_system(canonical_of(request), found),
    ),
    Definitions(
        "ValueSet",
        "read_value_set",
        "Read a ValueSet",
        "Every code of one of our CodeSystems; same ids as the CodeSystems.",
        VOCABULARIES_BY_ID,
        lambda request, found: value_set(canonical_of(request), found),
    ),
)


def serve(definitions: Definitions) -> None:
    """The read of one of `DEFINITIONS`: 404 naming the known ids for any other."""

    async def read(resource_id: ResourceId, request: Request) -> Response:
        if resource_id not in definitions.known:
            known = ", ".join(definitions.known)
            raise NotFoundError(
                f"No {definitions.resource_type} has the id {resource_id!r}. Known: {known}."
            )
        return resource_response(request, definitions.build(request, resource_id))

    fhir_operation(
        "get",
        f"/{definitions.resource_type}/{{resource_id}}",
        definitions.resource_type,
        summary=definitions.summary,
        description=definitions.description,
        name=definitions.operation,
    )(read)


for served_definitions in DEFINITIONS:
    serve(served_definitions)


WRITES = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}


def interaction_named(method: str, parts: list[str]) -> str:
    """The FHIR interaction a request to an unserved path asks for, in words."""
    operation = next((part for part in parts if part.startswith("$")), None)
    if operation is not None:
        return f"the operation {operation}" + (f" on {parts[0]}" if parts[0] != operation else "")
    if "_history" in parts:
        scope = {1: "the whole system", 2: f"the type {parts[0]}"}.get(len(parts), parts[0])
        return f"history on {scope}"
    if not parts:
        return "batch/transaction" if method == "POST" else "search across all types"
    if parts[-1] == "_search":
        return "search by POST"
    if method in WRITES:
        return f"{WRITES[method]} ({method}) on {parts[0]}: the facade is read-only"
    return f"search on {parts[0]}" if len(parts) == 1 else f"read of {parts[0]}"


@router.api_route(
    "/{unserved:path}",
    methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
    include_in_schema=False,
)
async def unsupported_interaction(unserved: str, request: Request) -> Response:
    """Whatever no route above serves: 405 for a write, else 400 `not-supported`, naming the
    interaction (a type we do not serve at all is 404 `not-found`)."""
    parts = [part for part in unserved.split("/") if part]
    served = {"metadata", *SERVED_TYPES}
    if parts and parts[0] not in served and not parts[0].startswith(("$", "_")):
        raise NotFoundError(f"No resource type {parts[0]!r} is served here.")
    interaction = interaction_named(request.method, parts)
    if (
        request.method in WRITES
        and parts
        and parts[-1] not in ("_search",)
        and not any(part.startswith("$") for part in parts)
    ):
        raise MethodNotAllowedError(
            f"Not supported: {interaction}.", headers={"Allow": "GET, HEAD"}
        )
    raise NotSupportedError(f"Not supported: {interaction}.")
