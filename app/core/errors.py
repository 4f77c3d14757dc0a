"""Domain errors carry their HTTP status; one set of handlers renders every error as RFC 9457
problem+json (or, under /fhir/, as a FHIR OperationOutcome), so no router ever builds an error
body by hand."""

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Literal

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match

logger = logging.getLogger("app.errors")

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "/problems/"
RETRY_AFTER_SECONDS = 2
"""Retry-After on a 503: the database or the snapshot is expected back shortly."""
DATABASE_DOWN = "The database cannot answer now. Retry after the time in Retry-After."
MAX_LISTED_ERRORS = 50
"""A problem lists at most this many errors, then says how many there were in all: a body with
60,000 bad keys must not get a 6 MB answer."""
FHIR_MEDIA_TYPE = "application/fhir+json"
FHIR_PATH_PREFIX = "/fhir/"
"""Errors on these paths are FHIR OperationOutcomes: a FHIR client understands no other body."""


class FieldError(BaseModel):
    """One bad parameter or field."""

    location: str = Field(description="query, path, header or body", examples=["query"])
    field: str = Field(description="The parameter name or dotted body path", examples=["safe_for"])
    pointer: str | None = Field(
        default=None,
        description="JSON Pointer into the body, for body fields",
        examples=["#/minutes"],
    )
    message: str = Field(examples=["Input should be 'flexion_sensitive' or 'extension_sensitive'"])


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str = Field(examples=["/problems/invalid-parameters"])
    title: str = Field(examples=["Invalid parameters"])
    status: int = Field(examples=[422])
    detail: str = Field(examples=["1 parameter is invalid: safe_for"])
    instance: str | None = Field(default=None, examples=["/v1/exercises"])
    errors: list[FieldError] | None = Field(
        default=None, description=f"The errors, at most {MAX_LISTED_ERRORS} of them."
    )
    error_count: int | None = Field(
        default=None,
        description="How many errors there were in all, when there were more than `errors` lists.",
        examples=[1250],
    )


class ApiError(Exception):
    status: int = 400
    slug: str = "bad-request"
    title: str = "Bad request"

    def __init__(
        self,
        detail: str,
        errors: Sequence[FieldError] = (),
        headers: dict[str, str] | None = None,
        error_count: int | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors[:MAX_LISTED_ERRORS])
        self.error_count = len(errors) if error_count is None else error_count
        self.headers = dict(headers or {})


class NotFoundError(ApiError):
    status = 404
    slug = "not-found"
    title = "Not found"


class UnknownParameterError(ApiError):
    status = 400
    slug = "unknown-parameter"
    title = "Unknown parameter"


class InvalidParameterError(ApiError):
    status = 400
    slug = "invalid-parameter"
    title = "Invalid parameter"


class NotAcceptableError(ApiError):
    status = 406
    slug = "not-acceptable"
    title = "Not acceptable"


class UnsupportedMediaTypeError(ApiError):
    status = 415
    slug = "unsupported-media-type"
    title = "Unsupported media type"


class ConflictError(ApiError):
    status = 409
    slug = "conflict"
    title = "Conflict"


class AuthenticationError(ApiError):
    status = 401
    slug = "unauthenticated"
    title = "Unauthenticated"


class ForbiddenError(ApiError):
    status = 403
    slug = "forbidden"
    title = "Forbidden"


class GoneError(ApiError):
    status = 410
    slug = "gone"
    title = "Gone"


class IdempotencyKeyReusedError(ApiError):
    """An Idempotency-Key sent again with a different request body: the key is bound to the
    request that first used it."""

    status = 409
    slug = "idempotency-key-reused"
    title = "Idempotency key reused"


class PreconditionFailedError(ApiError):
    status = 412
    slug = "precondition-failed"
    title = "Precondition failed"


class PreconditionRequiredError(ApiError):
    status = 428
    slug = "precondition-required"
    title = "Precondition required"


class ServiceUnavailableError(ApiError):
    status = 503
    slug = "service-unavailable"
    title = "Service unavailable"


class OutcomeDetails(BaseModel):
    text: str


class OutcomeIssue(BaseModel):
    severity: Literal["fatal", "error", "warning", "information"] = Field(examples=["error"])
    code: str = Field(description="A FHIR issue type", examples=["not-supported"])
    details: OutcomeDetails | None = None
    diagnostics: str | None = Field(default=None, examples=["Unknown parameter 'saftey_for'"])


class OperationOutcome(BaseModel):
    """A FHIR OperationOutcome: how every error under /fhir/ is reported."""

    resourceType: Literal["OperationOutcome"]  # noqa: N815 (FHIR's own element name)
    issue: list[OutcomeIssue] = Field(min_length=1)


ISSUE_TYPES: dict[str, str] = {
    "not-found": "not-found",
    "unknown-parameter": "not-supported",
    "method-not-allowed": "not-supported",
    "not-acceptable": "not-supported",
    "invalid-parameter": "invalid",
    "invalid-parameters": "invalid",
    "content-too-large": "too-long",
    "internal-error": "exception",
    "service-unavailable": "transient",
}
"""Our problem slugs as FHIR issue types (http://hl7.org/fhir/issue-type)."""


def operation_outcome(
    status: int, slug: str, detail: str, errors: Sequence[FieldError]
) -> dict[str, Any]:
    code = ISSUE_TYPES.get(slug, "processing")
    severity = "fatal" if status >= 500 else "error"
    if not errors:
        return {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": severity, "code": code, "diagnostics": detail}],
        }
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": severity,
                "code": code,
                "details": {"text": detail},
                "diagnostics": f"{error.location} parameter {error.field!r}: {error.message}",
            }
            for error in errors
        ],
    }


def problem_response(
    request: Request,
    status: int,
    slug: str,
    title: str,
    detail: str,
    errors: Sequence[FieldError] = (),
    headers: dict[str, str] | None = None,
    error_count: int | None = None,
) -> Response:
    """The problem document; `errors` beyond MAX_LISTED_ERRORS are counted, not listed."""
    listed = errors[:MAX_LISTED_ERRORS]
    total = len(errors) if error_count is None else error_count
    if request.url.path.startswith(FHIR_PATH_PREFIX):
        outcome = operation_outcome(status, slug, detail, listed)
        return Response(
            orjson.dumps(outcome), status_code=status, media_type=FHIR_MEDIA_TYPE, headers=headers
        )
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    if listed:
        body["errors"] = [error.model_dump(exclude_none=True) for error in listed]
    if total > len(listed):
        body["error_count"] = total
    return Response(
        orjson.dumps(body), status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers
    )


def json_pointer(tokens: Sequence[str | int]) -> str:
    """An RFC 6901 JSON Pointer, as a URI fragment: `#/exercises/2/level`; `~` and `/` inside a
    token are escaped as `~0` and `~1`. No tokens: `#`, the whole document."""
    return "#" + "".join("/" + str(token).replace("~", "~0").replace("/", "~1") for token in tokens)


def field_error(error: dict[str, Any]) -> FieldError:
    """One validation error (as pydantic reports it) as the field it names: the one conversion,
    for problem documents and the admin pages alike."""
    location, *path = [str(part) for part in error.get("loc", ())] or ["request"]
    if location == "body":
        return FieldError(
            location="body",
            field=".".join(path) or "body",
            pointer="#/" + "/".join(path),
            message=str(error.get("msg", "invalid")),
        )
    return FieldError(
        location=location,
        field=".".join(path) or location,
        message=str(error.get("msg", "invalid")),
    )


def _describe(listed: Sequence[FieldError], total: int) -> str:
    names = ", ".join(dict.fromkeys(error.field for error in listed))
    if total > len(listed):
        names += f" and more (the first {len(listed)} are listed)"
    noun = "parameter or field is" if total == 1 else "parameters or fields are"
    return f"{total} {noun} invalid: {names}"


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    headers = dict(exc.headers)
    if exc.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="backcare"'
    elif exc.status == 503:
        headers.setdefault("Retry-After", str(RETRY_AFTER_SECONDS))
    return problem_response(
        request,
        exc.status,
        exc.slug,
        exc.title,
        exc.detail,
        exc.errors,
        headers=headers or None,
        error_count=exc.error_count,
    )


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    raw = exc.errors()
    errors = [field_error(error) for error in raw[:MAX_LISTED_ERRORS]]
    if any(error.get("type") == "json_invalid" for error in raw):
        return problem_response(
            request, 400, "malformed-body", "Malformed body", "The body is not valid JSON.", errors
        )
    return problem_response(
        request,
        422,
        "invalid-parameters",
        "Invalid parameters",
        _describe(errors, len(raw)),
        errors,
        error_count=len(raw),
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    title = {
        400: "Bad request",
        404: "Not found",
        405: "Method not allowed",
        413: "Content too large",
    }.get(exc.status_code, "Error")
    detail = exc.detail if isinstance(exc.detail, str) else title
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"No resource at {request.url.path}."
    slug = title.lower().replace(" ", "-")
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(allowed_methods(request))
    return problem_response(request, exc.status_code, slug, title, detail, headers=headers or None)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path. Starlette's own 405 names only the first
    matching route's methods, while a path here can be served by several routes (GET
    /v1/exercises lists, POST creates)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match is not Match.NONE:
            methods.update(getattr(route, "methods", None) or ())
    return sorted(methods)


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    logger.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(
        request,
        500,
        "internal-error",
        "Internal error",
        "The server could not complete the request.",
    )


def database_unavailable(explained: bool) -> Callable[[Request, Exception], Awaitable[Response]]:
    """A handler for errors meaning the database cannot answer now (unreachable, timed out,
    busy, not migrated): 503 with Retry-After and one log line, never a traceback, and the
    client's connection kept. `explained` errors carry a message meant for the client; the
    driver's own never reach it (they may quote SQL)."""

    async def handler(request: Request, exc: Exception) -> Response:
        reason = " ".join(str(exc).split("\n", 1)[0].split()) or type(exc).__name__
        logger.warning("503 on %s %s: %s", request.method, request.url.path, reason[:300])
        return problem_response(
            request,
            ServiceUnavailableError.status,
            ServiceUnavailableError.slug,
            ServiceUnavailableError.title,
            str(exc) if explained else DATABASE_DOWN,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    return handler


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)


PROBLEM_DESCRIPTIONS: dict[int, str] = {
    400: "Unknown parameter, forged cursor or malformed request",
    401: "No key, or an unknown or revoked key",
    403: "The key's role does not allow this",
    404: "No such resource",
    406: "The resource is not available in the requested format",
    409: "The request conflicts with the resource's state",
    410: "The resource was deleted",
    412: "The If-Match version is stale",
    413: "The body is over the size limit",
    415: "The body is not in a supported format",
    422: "A parameter or field has an invalid value",
    428: "If-Match is required",
    429: "Too many requests from this client; Retry-After says when to try again",
    503: "Not ready, or the database cannot answer now: retry after Retry-After",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problem+json answers an operation can give. An operation that
    authenticates (401) can also refuse a client that failed too often (429)."""
    if 401 in statuses and 429 not in statuses:
        statuses = (*statuses, 429)
    return {
        status: {
            "model": Problem,
            "description": PROBLEM_DESCRIPTIONS[status],
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }


def outcome_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the OperationOutcome answers a FHIR operation can give."""
    return {
        status: {
            "model": OperationOutcome,
            "description": PROBLEM_DESCRIPTIONS[status],
            "content": {
                FHIR_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/OperationOutcome"}}
            },
        }
        for status in statuses
    }
