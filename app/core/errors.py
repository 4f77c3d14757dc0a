"""Domain errors carry their HTTP status; one set of handlers renders every error as RFC 9457
problem+json (or, under /fhir/, as a FHIR OperationOutcome), so no router ever builds an error
body by hand."""

import html
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

from app.core.request_ids import current_request_id

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
FHIR_CONTENT_TYPE = f"{FHIR_MEDIA_TYPE}; charset=utf-8"
"""What FHIR answers carry: FHIR's JSON, in UTF-8 as the FHIR specification asks servers to say."""
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
    request_id: str | None = Field(
        description="This request's id, as in the answer's `X-Request-ID` and the server's log "
        "line: the client's own `X-Request-ID` when it sent a usable one, else one made for it.",
        examples=["3f1b0c1e4a7d4a559a8e2b5f3f0e9c77"],
    )


class ApiError(Exception):
    """An error the client can act on. Each subclass is one problem type, `/problems/{slug}`,
    and its `description` is what that page says (see `problem_types`)."""

    status: int = 400
    slug: str = "bad-request"
    title: str = "Bad request"
    description: str = (
        "The request is malformed in a way no more specific problem type describes. "
        "The detail says what is wrong."
    )

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
        self.extensions: dict[str, Any] = {}
        """Extension members of the problem document (RFC 9457 3.2), beside the standard ones."""


class NotFoundError(ApiError):
    status = 404
    slug = "not-found"
    title = "Not found"
    description = "Nothing is at this URL: an unknown exercise slug, routine id, resource or path."


class UnknownParameterError(ApiError):
    status = 400
    slug = "unknown-parameter"
    title = "Unknown parameter"
    description = (
        "The query names a parameter this operation does not take (often a misspelling, such "
        "as `saftey_for`). Unknown parameters are refused rather than ignored, so a filter is "
        "never silently dropped; `errors` names each one and the detail lists those accepted. "
        "Only `utm_*` and a `_` cache-buster are ignored."
    )


class InvalidParameterError(ApiError):
    status = 400
    slug = "invalid-parameter"
    title = "Invalid parameter"
    description = (
        "A parameter, header or the request as a whole is malformed: a forged or reused "
        "cursor, a NUL character, too many query parameters, an `If-Match` that is not an "
        "ETag. `errors` names the parameter or header."
    )


class NotAcceptableError(ApiError):
    status = 406
    slug = "not-acceptable"
    title = "Not acceptable"
    description = (
        "Nothing this operation can produce is admitted by the request's `Accept` header (or "
        "its `format` or `_format` parameter). The detail says what is offered; JSON "
        "operations offer `application/json` (and `application/problem+json` for errors)."
    )


class ConflictError(ApiError):
    status = 409
    slug = "conflict"
    title = "Conflict"
    description = (
        "The request conflicts with the resource's current state: the slug is taken, the "
        "routine already has its feedback, or an import met a concurrent edit. Nothing was "
        "changed."
    )


class AuthenticationError(ApiError):
    status = 401
    slug = "unauthenticated"
    title = "Unauthenticated"
    description = (
        "No API key was sent, or the key is unknown or revoked. Send `Authorization: Bearer "
        "KEY` (a routine's delete token, for deleting it)."
    )


class ForbiddenError(ApiError):
    status = 403
    slug = "forbidden"
    title = "Forbidden"
    description = (
        "The credentials are valid but do not allow this: the key's role is too low, or the "
        "delete token does not belong to this routine."
    )


class GoneError(ApiError):
    status = 410
    slug = "gone"
    title = "Gone"
    description = (
        "The routine was deleted (with its delete token, or past the retention period). Only "
        "a tombstone is left; its content cannot be recovered."
    )


class IdempotencyKeyReusedError(ApiError):
    """An Idempotency-Key sent again with a different request body: the key is bound to the
    request that first used it."""

    status = 409
    slug = "idempotency-key-reused"
    title = "Idempotency key reused"
    description = (
        "The `Idempotency-Key` was first used with a different request body. A key stands for "
        "one request: send a new key for a new routine."
    )


class PreconditionFailedError(ApiError):
    status = 412
    slug = "precondition-failed"
    title = "Precondition failed"
    description = (
        "The `If-Match` ETag is not the resource's current one: someone changed it since you "
        "read it. Read it again, reapply your change, and send the new ETag."
    )


class PreconditionRequiredError(ApiError):
    status = 428
    slug = "precondition-required"
    title = "Precondition required"
    description = (
        "This write needs `If-Match` with the ETag you read, so that a concurrent edit is "
        "never overwritten."
    )


class ServiceUnavailableError(ApiError):
    status = 503
    slug = "service-unavailable"
    title = "Service unavailable"
    description = (
        "The service cannot answer now: the database is unreachable or busy, its schema is "
        "not migrated yet, or the server is at its limit of concurrent connections. Retry "
        "after the seconds in `Retry-After`."
    )


class MalformedRequestError(ApiError):
    status = 400
    slug = "malformed-request"
    title = "Malformed request"
    description = (
        "The request is not valid HTTP/1.1: its request line or headers could not be parsed "
        "(a bad character, a broken line ending, a conflicting Content-Length). The server "
        "closes the connection. Fix the client or whatever sits between it and the API."
    )


class MalformedBodyError(ApiError):
    status = 400
    slug = "malformed-body"
    title = "Malformed body"
    description = (
        "The body is not well-formed JSON (or YAML, for an import). The detail gives the line, "
        "column and character where parsing stopped; the error's pointer is `#`, the whole "
        "body, since a body that does not parse has no members to point into."
    )


class InvalidParametersError(ApiError):
    status = 422
    slug = "invalid-parameters"
    title = "Invalid parameters"
    description = (
        "Parameters or body fields have values the contract does not allow: an unknown enum "
        "value, a number out of range, a string where a number belongs. `errors` lists each "
        "one with its location, name and, for body fields, a JSON Pointer."
    )


class MethodNotAllowedError(ApiError):
    status = 405
    slug = "method-not-allowed"
    title = "Method not allowed"
    description = "The path exists but not with this method. `Allow` lists the methods it has."


class NotSupportedError(ApiError):
    status = 400
    slug = "not-supported"
    title = "Not supported"
    description = (
        "The FHIR facade does not serve this interaction or operation (history on a whole type, "
        "batch, `$expand`...). The detail names it; the CapabilityStatement lists what is served."
    )


class RequestTimeoutError(ApiError):
    status = 408
    slug = "request-timeout"
    title = "Request timeout"
    description = (
        "The request's headers or body did not all arrive in time. The connection is closed; "
        "send the request again."
    )


class ContentTooLargeError(ApiError):
    status = 413
    slug = "content-too-large"
    title = "Content too large"
    description = (
        "The body is over the size limit: 1 MB, 5 MB for an import, or the image upload limit "
        "(MEDIA_MAX_UPLOAD_BYTES, 10 MB by default) plus 64 KB for an upload."
    )


class UnsupportedMediaTypeError(ApiError):
    status = 415
    slug = "unsupported-media-type"
    title = "Unsupported media type"
    description = (
        "The body's `Content-Type` is missing or is not one this operation reads. Send JSON "
        "as `Content-Type: application/json` (an import may also be `application/yaml`); the "
        "detail lists what is accepted."
    )


class RequestHeaderFieldsTooLargeError(ApiError):
    status = 431
    slug = "request-header-fields-too-large"
    title = "Request header fields too large"
    description = (
        "The request line and headers are over the server's limit (16 KB by default). The "
        "connection is closed."
    )


class InternalError(ApiError):
    status = 500
    slug = "internal-error"
    title = "Internal error"
    description = (
        "The server could not complete the request because of a fault of its own. It was "
        "logged; nothing about it is disclosed."
    )


class HttpError(ApiError):
    """An HTTP error raised by the framework with a status no other type covers."""

    slug = "error"
    title = "Error"
    description = "An HTTP error no more specific problem type describes; see its status."


HTTP_ERRORS: dict[int, type[ApiError]] = {
    kind.status: kind
    for kind in (ApiError, NotFoundError, MethodNotAllowedError, ContentTooLargeError)
}
"""The problem type of each status the framework itself raises."""


def problem_types() -> dict[str, type[ApiError]]:
    """Every problem type by slug: ApiError and each of its subclasses, wherever it is declared
    (the one list; a subclass that keeps its parent's slug is the same type)."""
    found: dict[str, type[ApiError]] = {}
    pending: list[type[ApiError]] = [ApiError]
    while pending:
        kind = pending.pop(0)
        found.setdefault(kind.slug, kind)
        pending.extend(kind.__subclasses__())
    return found


def unsupported_media_type(received: str | None, accepted: Sequence[str]) -> ApiError:
    """415 naming the Content-Type header and what the operation accepts."""
    listed = ", ".join(accepted)
    sent = f"Content-Type {received[:100]!r}" if received else "no Content-Type"
    return UnsupportedMediaTypeError(
        f"The body was sent with {sent}; this operation accepts {listed}.",
        [FieldError(location="header", field="content-type", message=f"accepted: {listed}")],
    )


def not_acceptable(accept: str, offered: Sequence[str]) -> ApiError:
    """406 naming the Accept header and what the operation can produce."""
    listed = ", ".join(offered)
    return NotAcceptableError(
        f"Accept: {accept[:200]} admits nothing this operation produces: it offers {listed}.",
        [FieldError(location="header", field="accept", message=f"offered: {listed}")],
    )


def malformed_body(detail: str) -> ApiError:
    """400 for a body that does not parse. It has no members to point into, so the error
    points at the whole body (`#`), and the detail says where parsing stopped."""
    return MalformedBodyError(
        detail, [FieldError(location="body", field="body", pointer="#", message=detail)]
    )


def malformed_json(document: object, position: int, reason: str) -> ApiError:
    """A JSON decoding error (a character offset into the body) by line, column and character,
    each counted from 1."""
    where = f"character {position + 1}"
    if isinstance(document, (str, bytes)):
        text = document if isinstance(document, str) else document.decode("utf-8", "replace")
        line = text.count("\n", 0, position) + 1
        column = position - text.rfind("\n", 0, position)
        where = f"line {line}, column {column} ({where})"
    return malformed_body(f"The body is not valid JSON: {reason} at {where}.")


class OutcomeDetails(BaseModel):
    text: str


class OutcomeIssue(BaseModel):
    severity: Literal["fatal", "error", "warning", "information"] = Field(examples=["error"])
    code: str = Field(description="A FHIR issue type", examples=["not-supported"])
    details: OutcomeDetails | None = None
    diagnostics: str | None = Field(
        default=None,
        description="What is wrong, in words; on an error, it ends with ` request_id=` and this "
        "request's id, as in the answer's `X-Request-ID` (a problem document's `request_id`).",
        examples=["query parameter 'saftey_for': unknown parameter request_id=3f1b0c1e4a7d4a55"],
    )


class OutcomeNarrative(BaseModel):
    status: str = Field(examples=["generated"])
    div: str = Field(description="The detail, as FHIR's XHTML")


class OperationOutcome(BaseModel):
    """A FHIR OperationOutcome: how every error under /fhir/ is reported."""

    resourceType: Literal["OperationOutcome"]  # noqa: N815 (FHIR's own element name)
    text: OutcomeNarrative | None = None
    issue: list[OutcomeIssue] = Field(min_length=1)


ISSUE_TYPES: dict[str, str] = {
    "not-found": "not-found",
    "unknown-parameter": "not-supported",
    "not-supported": "not-supported",
    "method-not-allowed": "not-supported",
    "not-acceptable": "not-supported",
    "invalid-parameter": "invalid",
    "invalid-parameters": "invalid",
    "content-too-large": "too-long",
    "gone": "deleted",
    "internal-error": "exception",
    "service-unavailable": "transient",
}
"""Our problem slugs as FHIR issue types (http://hl7.org/fhir/issue-type)."""


REQUEST_ID_IN_DIAGNOSTICS = " request_id="
"""How an OperationOutcome's issue names the request (`request_id`, as problem documents and the
log line name it): at the end of its `diagnostics`."""


def operation_outcome(
    status: int, slug: str, detail: str, errors: Sequence[FieldError]
) -> dict[str, Any]:
    """The error as an OperationOutcome, each issue's diagnostics ending with the request's id."""
    named = f"{REQUEST_ID_IN_DIAGNOSTICS}{current_request_id.get() or '-'}"
    code = ISSUE_TYPES.get(slug, "processing")
    severity = "fatal" if status >= 500 else "error"
    text = {
        "status": "generated",
        "div": f'<div xmlns="http://www.w3.org/1999/xhtml"><p>{html.escape(detail)}</p></div>',
    }
    if not errors:
        return {
            "resourceType": "OperationOutcome",
            "text": text,
            "issue": [{"severity": severity, "code": code, "diagnostics": detail + named}],
        }
    return {
        "resourceType": "OperationOutcome",
        "text": text,
        "issue": [
            {
                "severity": severity,
                "code": code,
                "details": {"text": detail},
                "diagnostics": f"{error.location} parameter {error.field!r}: {error.message}"
                + named,
            }
            for error in errors
        ],
    }


ANSWER_HEADERS = "answer_headers"
"""Where, in a request's state, the headers every answer to it carries are kept."""


def add_answer_headers(request: Request, headers: dict[str, str]) -> None:
    """Headers every answer to this request carries, a problem as well as a success (the
    RateLimit fields a rate-limited route sends)."""
    request.scope.setdefault("state", {}).setdefault(ANSWER_HEADERS, {}).update(headers)


def answer_headers(request: Request) -> dict[str, str]:
    found: dict[str, str] = request.scope.get("state", {}).get(ANSWER_HEADERS, {})
    return found


def problem_response(
    request: Request,
    status: int,
    slug: str,
    title: str,
    detail: str,
    errors: Sequence[FieldError] = (),
    headers: dict[str, str] | None = None,
    error_count: int | None = None,
    extensions: dict[str, Any] | None = None,
) -> Response:
    """The problem document; `errors` beyond MAX_LISTED_ERRORS are counted, not listed."""
    listed = errors[:MAX_LISTED_ERRORS]
    total = len(errors) if error_count is None else error_count
    headers = {**answer_headers(request), **(headers or {})}
    if request.url.path.startswith(FHIR_PATH_PREFIX):
        outcome = operation_outcome(status, slug, detail, listed)
        return Response(
            orjson.dumps(outcome), status_code=status, media_type=FHIR_CONTENT_TYPE, headers=headers
        )
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "request_id": current_request_id.get(),
    }
    if listed:
        body["errors"] = [error.model_dump(exclude_none=True) for error in listed]
    if total > len(listed):
        body["error_count"] = total
    body.update(extensions or {})
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
            pointer=json_pointer(path),
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
        extensions=exc.extensions,
    )


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    raw = exc.errors()
    undecodable = next((error for error in raw if error.get("type") == "json_invalid"), None)
    if undecodable is not None:
        return await _api_error(request, _malformed_json(exc.body, undecodable))
    errors = [field_error(error) for error in raw[:MAX_LISTED_ERRORS]]
    kind = InvalidParametersError
    detail = _describe(errors, len(raw))
    return problem_response(
        request, kind.status, kind.slug, kind.title, detail, errors, error_count=len(raw)
    )


def _malformed_json(document: object, error: dict[str, Any]) -> ApiError:
    """FastAPI reports where JSON decoding stopped as `("body", offset)`."""
    location = error.get("loc", ())
    position = location[1] if len(location) > 1 and isinstance(location[1], int) else 0
    return malformed_json(document, position, str(error.get("ctx", {}).get("error", "invalid")))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    kind = HTTP_ERRORS.get(exc.status_code, HttpError)
    detail = exc.detail if isinstance(exc.detail, str) else kind.title
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"No resource at {request.url.path}."
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(allowed_methods(request))
    return problem_response(
        request, exc.status_code, kind.slug, kind.title, detail, headers=headers or None
    )


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path. Starlette's own 405 names only the first
    matching route's methods, while a path here can be served by several routes (GET
    /v1/exercises lists, POST creates)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match is not Match.NONE:
            methods.update(getattr(route, "methods", None) or ())
    if "GET" in methods:
        methods.add("HEAD")  # served by the GET route (app.api.http_cache)
    return sorted(methods)


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    logger.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    kind = InternalError
    detail = "The server could not complete the request."
    return problem_response(request, kind.status, kind.slug, kind.title, detail)


def database_unavailable(explained: bool) -> Callable[[Request, Exception], Awaitable[Response]]:
    """A handler for errors meaning the database cannot answer now (unreachable, timed out,
    busy, not migrated): 503 with Retry-After and one log line, never a traceback, and the
    client's connection kept. `explained` errors carry a message meant for the client; the
    driver's own never reach it (they may quote SQL)."""

    async def handler(request: Request, exc: Exception) -> Response:
        logger.warning(
            "503 on %s %s: %s", request.method, request.url.path, unavailable_reason(exc)
        )
        return problem_response(
            request,
            ServiceUnavailableError.status,
            ServiceUnavailableError.slug,
            ServiceUnavailableError.title,
            str(exc) if explained else DATABASE_DOWN,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    return handler


def unavailable_reason(error: Exception) -> str:
    """Why the database could not answer, in one line: the driver's own first line (a
    SQLAlchemy error's first line may be a hint about autoflush, not the cause)."""
    cause = getattr(error, "orig", None)
    if isinstance(cause, Exception):
        return f"{type(cause).__name__}: {_first_line(cause)}"[:300]
    return (_first_line(error) or type(error).__name__)[:300]


def _first_line(error: Exception) -> str:
    return " ".join(str(error).split("\n", 1)[0].split())


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


RETRY_AFTER_HEADER = {
    "description": "Seconds to wait before trying again (RFC 9110 10.2.3).",
    "required": True,
    "schema": {"type": "string", "pattern": "^[0-9]+$"},
    "example": "2",
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
            **({"headers": {"Retry-After": RETRY_AFTER_HEADER}} if status in (429, 503) else {}),
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
            **({"headers": {"Retry-After": RETRY_AFTER_HEADER}} if status == 503 else {}),
        }
        for status in statuses
    }
