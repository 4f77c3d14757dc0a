"""The admin web UI at /admin: server-rendered pages for people holding an admin key.

Every change goes through the same functions as the JSON API (`app.content.editing` inside the
writer's unit of work), so validation, optimistic concurrency and the audit trail are identical:
the version a page was rendered from travels in a hidden field and is the expected version, just
as an `If-Match` header would be.

Session: logging in with an admin key sets a cookie signed by itsdangerous
(`app.api.admin_session`) holding the key's SHA-256 and a random CSRF token; the key itself is never
stored, echoed or logged. Each request checks the signature, the age, and that the key is still
active and still admin. Each form echoes the session's CSRF token, and POSTs from another origin are
refused.

These are browser pages, so errors are HTML pages too, never problem+json or a traceback.
"""

import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

import yaml
from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from app.api.admin_session import (
    COOKIE,
    COOKIE_PATH,
    SESSION_SECONDS,
    AdminSessionCookie,
    same_token,
)
from app.api.auth import authenticate_request
from app.api.dependencies import ContentDep, RuntimeDep, client_address
from app.api.media import ATTRIBUTION_FIELDS, MediaIdPath, upload_parts
from app.api.params import SlugPath
from app.api.routing import StrictQueryRoute
from app.content import editing
from app.core.errors import (
    RETRY_AFTER_SECONDS,
    ApiError,
    AuthenticationError,
    ConflictError,
    FieldError,
    ForbiddenError,
    PreconditionFailedError,
    field_error,
)
from app.core.rate_limits import TooManyRequestsError
from app.core.security import Role, hash_key
from app.db.catalogue_store import one_line
from app.db.models import AuditEntryRow, ExerciseRow
from app.db.session import UNAVAILABLE_ERRORS
from app.domain.exercise import Exercise
from app.domain.vocabulary import License, Status
from app.services.content import AuditQuery, EditorListing
from app.services.illustrations import drawn_frames
from app.services.runtime import Runtime

logger = logging.getLogger("app.admin_ui")

AUDIT_PAGE_SIZE = 50
TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}

NEW_EXERCISE_TEMPLATE = """\
# A new exercise. Change at least the slug and the name, and fill in every field.
# It is saved as a draft (hidden from the public API) until you set status: published.
slug: new-exercise
name: New exercise
aliases: []
summary: One or two sentences saying what the exercise is and what it does.
category: stretch  # stretch, strengthening, stabilisation, range_of_motion, aerobic
level: beginner  # beginner, intermediate, advanced
level_rationale: Why this level, and whether the source gives one.
position: supine  # supine, prone, hands_and_knees, half_kneeling, seated, standing, in_water
spinal_motion: neutral  # flexion, extension, rotation, neutral
target_areas: [lower_back]
equipment: []
optional_equipment: [mat]
steps:
  - Lie on your back with your knees bent and your feet flat on the floor.
  - Describe each step in order.
dosages:
  - source: aaos-back-pain-exercises
    reps: 10
    hold_seconds: 5
contraindications: []  # a flexion or extension exercise must list its sensitivity flag
indications: []
cautions:
  - Stop if the exercise increases your pain or brings on new pain.
bed_friendly: false
needs_helper: false
tensions_sciatic_nerve: false
impact: low
progressions:
  easier: []
  harder: []
variants: []
status: draft
citations:
  - source: aaos-back-pain-exercises
"""

STALE_MESSAGE = (
    "Someone else changed this exercise since you opened it, so nothing was saved. "
    "Copy your changes, reload the current version and make them again."
)


@dataclass(frozen=True)
class AdminSession:
    name: str
    csrf: str
    session_id: str
    role: Role = Role.admin

    @property
    def is_admin(self) -> bool:
        return self.role is Role.admin


class LoginRequiredError(Exception):
    """No valid session: GETs go to the login page, POSTs get it with a message."""


class CsrfRejectedError(Exception):
    pass


def session_cookie(runtime: Runtime) -> AdminSessionCookie:
    return AdminSessionCookie(runtime.signing.admin_sessions)


UI_ROLES = (Role.admin, Role.clinician)
"""Keys that may log in: an admin key opens every page, a clinician key the program builder."""


async def signed_in_any(request: Request, runtime: RuntimeDep) -> AdminSession:
    """The session of an admin or a clinician key that is still active and still that role."""
    token = request.cookies.get(COOKIE)
    if not token:
        raise LoginRequiredError
    contents = session_cookie(runtime).read(token)
    if contents is None:
        raise LoginRequiredError
    caller = await runtime.keys.session_caller(contents.session_id, contents.key_hash)
    if caller is None or caller.role not in UI_ROLES:
        raise LoginRequiredError
    return AdminSession(
        name=caller.name, csrf=contents.csrf, session_id=contents.session_id, role=caller.role
    )


async def signed_in(request: Request, runtime: RuntimeDep) -> AdminSession:
    """An admin's session: a clinician's is shown a 403 page pointing to the program builder."""
    session = await signed_in_any(request, runtime)
    if not session.is_admin:
        raise ForbiddenError(
            f"The key {session.name!r} is a clinician key: it opens the program builder "
            "(/admin/programs). The exercise pages need an admin key."
        )
    return session


def same_origin(request: Request) -> None:
    """Browsers send Origin on POSTs; one naming another site is a cross-site request."""
    origin = request.headers.get("origin")
    if origin is not None and urlsplit(origin).netloc != request.headers.get("host"):
        raise CsrfRejectedError


SignedIn = Annotated[AdminSession, Depends(signed_in)]
SignedInAny = Annotated[AdminSession, Depends(signed_in_any)]


def checked_form(request: Request, session: AdminSession, csrf: str) -> AdminSession:
    """A form POST of this session: from this origin, echoing the session's CSRF token."""
    same_origin(request)
    if not same_token(csrf, session.csrf):
        raise CsrfRejectedError
    return session


def signed_in_form(
    request: Request, admin: SignedIn, csrf: Annotated[str, Form(max_length=200)] = ""
) -> AdminSession:
    return checked_form(request, admin, csrf)


SignedInForm = Annotated[AdminSession, Depends(signed_in_form)]


def signed_in_any_form(
    request: Request, session: SignedInAny, csrf: Annotated[str, Form(max_length=200)] = ""
) -> AdminSession:
    return checked_form(request, session, csrf)


SignedInAnyForm = Annotated[AdminSession, Depends(signed_in_any_form)]


# --- rendering ----------------------------------------------------------------------------------


def page(
    request: Request,
    template: str,
    context: dict[str, Any],
    status_code: int = 200,
) -> Response:
    return TEMPLATES.TemplateResponse(
        request, f"admin/{template}", context, status_code=status_code
    )


def error_page(
    request: Request,
    status_code: int,
    title: str,
    detail: str,
    errors: list[FieldError] | None = None,
) -> Response:
    context = {"title": title, "detail": detail, "errors": errors or [], "admin": None}
    return page(request, "error.html", context, status_code)


def login_page(request: Request, message: str | None = None, status_code: int = 200) -> Response:
    response = page(request, "login.html", {"message": message, "admin": None}, status_code)
    if message is not None:
        response.delete_cookie(COOKIE, path=COOKIE_PATH)
    return response


class AdminPageRoute(StrictQueryRoute):
    """Renders every failure as an HTML page and adds the pages' security headers."""

    produces = None  # pages for a browser, whatever it sends as Accept

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def html_handler(request: Request) -> Response:
            try:
                response = await handler(request)
            except LoginRequiredError:
                if request.method in ("GET", "HEAD"):
                    response = RedirectResponse("/admin/login", status_code=303)
                    if COOKIE in request.cookies:
                        response.delete_cookie(COOKIE, path=COOKIE_PATH)
                else:
                    message = "Your session has ended. Log in again; nothing was saved."
                    response = login_page(request, message, 401)
            except CsrfRejectedError:
                response = error_page(
                    request,
                    403,
                    "Form expired",
                    "This form did not come from your current session, so it was refused and "
                    "nothing was saved. Go back, reload the page and try again.",
                )
            except ApiError as error:
                response = error_page(
                    request, error.status, error.title, error.detail, error.errors
                )
            except RequestValidationError as error:
                response = error_page(
                    request,
                    422,
                    "Invalid request",
                    "Part of the request is not valid.",
                    [field_error(item) for item in error.errors()],
                )
            except UNAVAILABLE_ERRORS as error:
                logger.warning(
                    "503 on %s %s: %s", request.method, request.url.path, one_line(error)
                )
                response = error_page(
                    request,
                    503,
                    "Service unavailable",
                    "The database cannot answer now. Reload in a moment to see whether a change "
                    "was saved before trying it again.",
                )
                response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
            except Exception:
                logger.exception("admin UI error on %s %s", request.method, request.url.path)
                response = error_page(
                    request, 500, "Internal error", "The server could not complete the request."
                )
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            return response

        return html_handler


router = APIRouter(include_in_schema=False, route_class=AdminPageRoute)


# --- log in and out ---------------------------------------------------------------------------


@router.get("/admin/login")
def login_form(request: Request) -> Response:
    return login_page(request)


@router.post("/admin/login")
async def log_in(
    request: Request, runtime: RuntimeDep, key: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    same_origin(request)
    try:
        caller = await authenticate_request(request, key.strip())
    except TooManyRequestsError as refusal:
        logger.warning("admin UI: refused a login, too many failed keys from this client")
        response = login_page(request, "Too many wrong keys: wait a minute and try again.", 429)
        response.headers.update(refusal.headers)
        return response
    except AuthenticationError:
        logger.warning("admin UI: refused a login with an unknown or revoked key")
        return login_page(request, "That key is unknown or revoked.", 401)
    if caller.role not in UI_ROLES:
        logger.warning("admin UI: refused a login with the %s key %r", caller.role, caller.name)
        message = (
            f"The key {caller.name!r} is an {caller.role.value} key. "
            "The admin pages need an admin key (or a clinician key, for the program builder)."
        )
        return login_page(request, message, 403)
    key_hash = hash_key(key.strip())
    session_id = await runtime.keys.start_session(key_hash, timedelta(seconds=SESSION_SECONDS))
    if session_id is None:  # revoked between the check and now
        return login_page(request, "That key is unknown or revoked.", 401)
    token = session_cookie(runtime).issue(key_hash, session_id)
    logger.info("admin UI: %r logged in", caller.name)
    landing = "/admin" if caller.role is Role.admin else "/admin/programs"
    response = RedirectResponse(landing, status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        max_age=SESSION_SECONDS,
        path=COOKIE_PATH,
        secure=request.url.scheme == "https" or runtime.settings.served_over_https,
        httponly=True,
        samesite="strict",
    )
    return response


@router.post("/admin/logout")
async def log_out(
    request: Request, runtime: RuntimeDep, csrf: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    response = RedirectResponse("/admin/login", status_code=303)
    try:
        admin = await signed_in_any(request, runtime)
    except LoginRequiredError:
        response.delete_cookie(COOKIE, path=COOKIE_PATH)
        return response
    signed_in_form(request, admin, csrf)
    await runtime.keys.end_session(admin.session_id)
    response.delete_cookie(COOKIE, path=COOKIE_PATH)
    logger.info("admin UI: %r logged out", admin.name)
    return response


# --- exercises ----------------------------------------------------------------------------------


@router.get("/admin")
def exercise_list(
    request: Request,
    admin: SignedIn,
    content: ContentDep,
    q: Annotated[str, Query(max_length=100)] = "",
    status: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    statuses = [s.value for s in Status]
    if status and status not in statuses:
        raise ApiError(
            f"Unknown status {status!r}: choose one of {', '.join(statuses)}.",
            [FieldError(location="query", field="status", message="unknown status")],
        )
    listing = EditorListing(statuses=(status,) if status else (), text=q.strip(), by_name=True)
    rows = content.rows(listing)
    context = {
        "admin": admin,
        "rows": rows,
        "q": q,
        "status": status,
        "statuses": statuses,
    }
    return page(request, "list.html", context)


def exercise_yaml(document: dict[str, Any]) -> str:
    """The stored document as YAML, in the record's field order whatever the store did to it."""
    ordered = Exercise.model_validate(document).model_dump(mode="json", exclude_none=True)
    return yaml.safe_dump(ordered, sort_keys=False, allow_unicode=True, width=100)


def edit_page(
    request: Request,
    admin: AdminSession,
    *,
    text: str,
    row: ExerciseRow | None = None,
    version: int | None = None,
    notice: str | None = None,
    error: ApiError | None = None,
    stale: bool = False,
    status_code: int = 200,
    media_error: ApiError | None = None,
    media_values: dict[str, str] | None = None,
) -> Response:
    context = {
        "admin": admin,
        "row": row,
        "frames": drawn_frames(row.document) if row is not None else [],
        "media": stored_media(row.document) if row is not None else [],
        "licenses": [item.value for item in License],
        "media_error": media_error,
        "media_values": media_values or {},
        "text": text,
        "version": version,
        "notice": notice,
        "error": error,
        "stale": stale,
        "stale_message": STALE_MESSAGE,
    }
    return page(request, "edit.html", context, status_code)


@router.get("/admin/new-exercise")
def new_exercise_form(request: Request, admin: SignedIn) -> Response:
    return edit_page(request, admin, text=NEW_EXERCISE_TEMPLATE)


@router.post("/admin/new-exercise")
def create_exercise(
    request: Request,
    admin: SignedInForm,
    content: ContentDep,
    document: Annotated[str, Form()] = "",
) -> Response:
    try:
        stored = content.create(editing.parse_exercise_text(document), admin.name)
    except (editing.ContentRejectedError, ConflictError) as error:
        return edit_page(request, admin, text=document, error=error, status_code=error.status)
    logger.info("admin UI: %r created %s", admin.name, stored.slug)
    return saved_redirect(stored.slug, stored.version)


def saved_redirect(slug: str, version: int) -> RedirectResponse:
    query = urlencode({"saved": version})
    return RedirectResponse(f"/admin/exercises/{slug}?{query}", status_code=303)


@router.get("/admin/exercises/{slug}")
def edit_exercise_form(
    request: Request,
    slug: SlugPath,
    admin: SignedIn,
    content: ContentDep,
    saved: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    row = content.row(slug)
    notice = f"Saved version {saved}." if saved is not None else None
    return current_page(request, admin, row, notice=notice)


def current_page(request: Request, admin: AdminSession, row: ExerciseRow, **shown: Any) -> Response:
    """The exercise's page at its current version, with what `edit_page` is told to show."""
    return edit_page(
        request, admin, text=exercise_yaml(row.document), row=row, version=row.version, **shown
    )


@router.post("/admin/exercises/{slug}")
def save_exercise(
    request: Request,
    slug: SlugPath,
    admin: SignedInForm,
    content: ContentDep,
    document: Annotated[str, Form()] = "",
    version: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    expected = form_version(version)
    try:
        exercise = editing.parse_exercise_text(document)
        saved_version = content.replace(slug, exercise, expected, admin.name).version
    except (editing.ContentRejectedError, PreconditionFailedError) as error:
        current = content.row(slug)
        return edit_page(
            request,
            admin,
            text=document,
            row=current,
            version=expected,
            error=error,
            stale=isinstance(error, PreconditionFailedError),
            status_code=error.status,
        )
    logger.info("admin UI: %r saved %s version %d", admin.name, slug, saved_version)
    return saved_redirect(slug, saved_version)


# --- images -------------------------------------------------------------------------------------

MEDIA_UPLOAD_PATH_PATTERN = r"/admin/exercises/[^/]+/media"
"""The admin page's upload, which may carry as large a body as the API's."""


def stored_media(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The images a stored document lists (none for one this code cannot read)."""
    media = document.get("media")
    return media if isinstance(media, list) else []


def form_version(version: str) -> int:
    if not version.isdigit():
        raise ApiError(
            "The form does not say which version it edits. Reload the page and try again.",
            [FieldError(location="body", field="version", message="missing or not a number")],
        )
    return int(version)


async def media_refused(
    request: Request,
    admin: AdminSession,
    content: ContentDep,
    slug: str,
    error: ApiError,
    values: dict[str, str] | None = None,
) -> Response:
    """The exercise page again, the refusal shown beside its images (nothing was written)."""
    row = await run_in_threadpool(content.row, slug)
    return current_page(
        request,
        admin,
        row,
        status_code=error.status,
        media_error=error,
        media_values=values if values is not None else {},
    )


@router.post("/admin/exercises/{slug}/media")
async def attach_image(
    request: Request,
    slug: SlugPath,
    admin: SignedInForm,
    runtime: RuntimeDep,
    content: ContentDep,
    version: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """The upload form: the same checks, re-encoding and edit as `POST /v1/exercises/{slug}/media`
    under the version the page showed."""
    expected = form_version(version)
    form = await request.form()
    values = {
        name: value for name in ATTRIBUTION_FIELDS if isinstance(value := form.get(name), str)
    }
    budget = await runtime.rate_limits.spend_media_upload(client_address(request))
    del budget  # pages carry no rate limit headers
    try:
        data, attribution = await upload_parts(request, runtime.media.limits.max_bytes)
        attached = await runtime.media.attach(slug, data, attribution, expected, admin.name)
    except ApiError as error:
        return await media_refused(request, admin, content, slug, error, values)
    logger.info("admin UI: %r attached %s to %s", admin.name, attached.record["id"], slug)
    return saved_redirect(slug, attached.version)


@router.post("/admin/exercises/{slug}/media/{media_id}/remove")
async def remove_image(
    request: Request,
    slug: SlugPath,
    media_id: MediaIdPath,
    admin: SignedInForm,
    runtime: RuntimeDep,
    content: ContentDep,
    version: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    expected = form_version(version)
    try:
        saved = await run_in_threadpool(runtime.media.remove, slug, media_id, expected, admin.name)
    except ApiError as error:
        return await media_refused(request, admin, content, slug, error)
    logger.info("admin UI: %r removed %s from %s", admin.name, media_id, slug)
    return saved_redirect(slug, saved)


@router.get("/admin/exercises/{slug}/media/{media_id}/thumbnail")
async def image_thumbnail(
    slug: SlugPath, media_id: MediaIdPath, admin: SignedIn, runtime: RuntimeDep
) -> Response:
    """An image's thumbnail in any status (a draft's too), for the exercise page."""
    image = await run_in_threadpool(runtime.media.stored_file, slug, media_id, True)
    return Response(image.body, media_type=image.content_type)


# --- audit --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditLine:
    row: AuditEntryRow
    changed: list[str]
    before: str
    after: str


def audit_line(row: AuditEntryRow) -> AuditLine:
    before, after = row.before or {}, row.after or {}
    changed = [key for key in dict.fromkeys([*before, *after]) if before.get(key) != after.get(key)]

    def dump(document: dict[str, Any]) -> str:
        if not document:
            return ""
        part = {key: document[key] for key in changed if key in document}
        return yaml.safe_dump(part, sort_keys=False, allow_unicode=True, width=100)

    return AuditLine(row=row, changed=changed, before=dump(before), after=dump(after))


@router.get("/admin/audit")
def audit_log(
    request: Request,
    admin: SignedIn,
    content: ContentDep,
    exercise: Annotated[str, Query(max_length=80)] = "",
    before: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    exercise = exercise.strip()
    query = AuditQuery(exercise=exercise or None, older_than_id=before, limit=AUDIT_PAGE_SIZE)
    rows, more = content.changes(query)
    lines = [audit_line(row) for row in rows]
    more_link = None
    if more and rows:
        parameters = {"exercise": exercise} if exercise else {}
        more_link = "/admin/audit?" + urlencode({**parameters, "before": rows[-1].id})
    context = {
        "admin": admin,
        "lines": lines,
        "exercise": exercise,
        "more_link": more_link,
        "first_page": before is None,
    }
    return page(request, "audit.html", context)


# --- anything else under /admin ---------------------------------------------------------------


@router.get("/admin/{rest:path}")
def not_found(request: Request, rest: str) -> Response:
    if rest == "":
        return RedirectResponse("/admin", status_code=303)
    return error_page(request, 404, "Not found", "There is no admin page at this address.")
