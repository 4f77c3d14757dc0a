"""HTTP caching (RFC 9110, 9111) for every route, in one ASGI middleware, so routers stay as they
are. What it does, by path (`policy_for`):

- HEAD is served by the GET route, with the same headers and no body.
- Every 200 to a GET carries a strong ETag: the catalogue revision and a hash of the normalised
  query for lists and reference data (`catalogue_tag`), the routine id for a write-once routine,
  the route's own tag where it sets one (an exercise's version, a handout, FHIR's `W/"version"`),
  otherwise a digest of the body. `If-None-Match` (weak comparison, lists, `*`) gives a 304 with
  no body and the same ETag, Cache-Control and Vary. A catalogue tag is computed before the route
  runs, so its 304 costs no search and no body; a routine's 304 costs only the cached lookup
  that proves the routine is still stored.
- Cache-Control: catalogue reads `public, max-age=0, must-revalidate` (an editor's correction to
  a contraindication reaches every client at once, and revalidating is a cheap 304); routines,
  their feedback and handouts `private, max-age=31536000, immutable` (a person's health, written
  once); administration, health checks, writes and every error `no-store`.
- Bodies of 1 KB or more are gzip-compressed for a client that accepts it. Bodies with an ETag
  on cacheable paths are compressed once per (catalogue revision, path, ETag) and kept in a small
  LRU; anything else goes through starlette's GZipMiddleware. PDFs are never recompressed.

The snapshot a catalogue read's ETag names is pinned in the request's scope, so the route serves
that same snapshot (`app.api.dependencies.current_catalogue`) even if a refresh lands meanwhile.
"""

import functools
import gzip
import hashlib
import re
from dataclasses import dataclass
from enum import Enum, auto
from typing import Any

from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from werkzeug.http import parse_accept_header, parse_etags

from app import __version__
from app.api.dependencies import PINNED_CATALOGUE
from app.core.errors import (
    ApiError,
    FieldError,
    InvalidParameterError,
    PreconditionRequiredError,
)
from app.core.lru import LruCache
from app.core.negotiation import best_match
from app.db.session import DRIVER_UNAVAILABLE_ERRORS, DatabaseUnavailableError
from app.domain.catalogue import Catalogue
from app.services.runtime import Runtime

PUBLIC = "public, max-age=0, must-revalidate"
PRIVATE_IMMUTABLE = "private, max-age=31536000, immutable"
NO_STORE = "no-store"
MINIMUM_COMPRESSED_BYTES = 1024
COMPRESSED_BODIES = 512
"""Entries of the compress-once cache: a list page of 100 summaries is about 10 KB gzipped."""
NOT_COMPRESSED = (*DEFAULT_EXCLUDED_CONTENT_TYPES, "application/pdf")
NOT_MODIFIED_HEADERS = frozenset({b"etag", b"cache-control", b"vary", b"content-location"})
"""What a 304 repeats of the 200 it replaces (RFC 9110 15.4.5); Expires and Date are not sent."""
JSON_MEDIA_TYPES = ("application/json", "application/fhir+json")

ENTITY_TAG = r'(?:W/)?"[\x21\x23-\x7e\x80-\xff]*"'
ENTITY_TAG_LIST = re.compile(rf"\s*(?:\*|{ENTITY_TAG}(?:\s*,\s*{ENTITY_TAG})*)\s*")
"""RFC 9110's If-Match syntax. Only to tell a malformed header (400) from a tag that does not
match (412): werkzeug, which parses the tags, also accepts unquoted ones."""


class TagSource(Enum):
    CATALOGUE = auto()
    """The catalogue revision and the query: computed before the route runs."""
    ROUTINE = auto()
    """The routine id, from the path: a routine is written once."""
    RESPONSE = auto()
    """The route's own ETag, or a digest of the body."""


@dataclass(frozen=True)
class PathPolicy:
    cache_control: str
    tag: TagSource = TagSource.RESPONSE
    compress_once: bool = True
    pin_catalogue: bool = False
    vary: tuple[str, ...] = ("Accept-Encoding",)


CATALOGUE_READ = PathPolicy(PUBLIC, TagSource.CATALOGUE, pin_catalogue=True)
CATALOGUE_ITEM = PathPolicy(PUBLIC, pin_catalogue=True)
ROUTINE = PathPolicy(PRIVATE_IMMUTABLE, TagSource.ROUTINE)
PRIVATE = PathPolicy(PRIVATE_IMMUTABLE)
PERSONAL = PathPolicy("private, no-cache")
PUBLIC_READ = PathPolicy(PUBLIC)
ADMINISTRATION = PathPolicy(NO_STORE, compress_once=False, vary=("Authorization",))
UNCACHED = PathPolicy(NO_STORE, compress_once=False, vary=())

CATALOGUE_PATHS = frozenset(
    {
        "/v1/exercises",
        "/v1/target-areas",
        "/v1/categories",
        "/v1/equipment",
        "/v1/positions",
        "/v1/progression-levels",
        "/v1/contraindications",
        "/v1/sources",
        "/v1/red-flags",
        "/v1/routine-rules",
        "/v1/catalogue",
        "/v1/changes",
        "/fhir/r4/ActivityDefinition",
    }
)
HEALTH_PATHS = frozenset({"/healthz", "/readyz"})
EXERCISE_PREFIX = "/v1/exercises/"
ROUTINE_PREFIX = "/v1/routines/"


def policy_for(path: str) -> PathPolicy:
    if path in CATALOGUE_PATHS:
        return CATALOGUE_READ
    if path.startswith(EXERCISE_PREFIX):
        under = path[len(EXERCISE_PREFIX) :].split("/")
        return CATALOGUE_READ if under[1:] == ["progressions"] else CATALOGUE_ITEM
    if path.startswith(ROUTINE_PREFIX):
        under = path[len(ROUTINE_PREFIX) :].split("/")
        return ROUTINE if len(under) == 1 or under[1:] == ["feedback"] else PRIVATE
    if path.startswith("/fhir/"):
        return fhir_policy(path)
    if path.startswith("/v1/admin/") or path == "/admin" or path.startswith("/admin/"):
        return ADMINISTRATION
    if path in HEALTH_PATHS:
        return UNCACHED
    return PUBLIC_READ


PERSONAL_FHIR_PATHS = ("/fhir/r4/QuestionnaireResponse", "/fhir/r4/Observation")
"""A person's feedback: never in a shared cache, and a search may change once it is given."""


def fhir_policy(path: str) -> PathPolicy:
    if path.startswith("/fhir/r4/PlanDefinition/"):
        return PRIVATE
    if path.startswith(PERSONAL_FHIR_PATHS):
        return PERSONAL
    return CATALOGUE_ITEM


@functools.lru_cache(maxsize=1024)
def catalogue_tag(revision: int, query_string: bytes, cursor_key: bytes = b"") -> str:
    """The catalogue revision, and a digest of the query with its parameters sorted, the API's
    version (a release that changes a body changes its tag) and `cursor_key` (the bodies of
    lists carry cursors signed with it)."""
    query = b"&".join(sorted(query_string.split(b"&"))) if query_string else b""
    seen = __version__.encode() + cursor_key + b"?" + query
    return f'"{revision}-{hashlib.blake2b(seen, digest_size=8).hexdigest()}"'


def routine_tag(path: str) -> str:
    under = path[len(ROUTINE_PREFIX) :].split("/")
    return f'"{under[0]}"' if len(under) == 1 else f'"{under[0]}-{under[1]}"'


def body_tag(body: bytes) -> str:
    return f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'


@functools.lru_cache(maxsize=256)
def matches_weakly(if_none_match: str, etag: str) -> bool:
    """RFC 9110 13.1.2: `*`, or any tag in the list equal to `etag` once W/ is ignored."""
    return parse_etags(if_none_match).contains_weak(etag.removeprefix("W/").strip('"'))


def accepts(value: str | None, media_types: tuple[str, ...]) -> bool:
    return value is None or best_match(value, media_types) is not None


@functools.lru_cache(maxsize=64)
def accepts_gzip(value: str | None) -> bool:
    return value is not None and parse_accept_header(value).quality("gzip") > 0


@functools.lru_cache(maxsize=64)
def compressible(content_type: bytes | None) -> bool:
    media_type = (content_type or b"").decode("latin-1").partition(";")[0].strip().lower()
    return (
        media_type.startswith("text/") or media_type.endswith("json") or media_type.endswith("+xml")
    )


def compress(body: bytes) -> bytes:
    return gzip.compress(body, compresslevel=9, mtime=0)


@functools.lru_cache(maxsize=64)
def merged_vary(present: bytes | None, names: tuple[str, ...]) -> bytes | None:
    """`present` with `names` added (each once), or None when nothing needs adding."""
    tokens = {token.strip().lower() for token in (present or b"").decode("latin-1").split(",")}
    missing = [name for name in names if name.lower() not in tokens]
    if not missing:
        return None
    return ", ".join(filter(None, [(present or b"").decode("latin-1"), *missing])).encode()


def replaced(
    raw: list[tuple[bytes, bytes]], name: bytes, value: bytes
) -> list[tuple[bytes, bytes]]:
    return [(key, old) for key, old in raw if key.lower() != name] + [(name, value)]


def request_headers(scope: Scope) -> dict[bytes, str]:
    wanted = (b"if-none-match", b"accept-encoding", b"accept")
    return {name: value.decode("latin-1") for name, value in scope["headers"] if name in wanted}


@functools.lru_cache(maxsize=8)
def cursor_key(secret: str) -> bytes:
    """A one-way digest of the secret that signs cursors: a process signing with another secret
    (one set differently, or a database not yet migrated) has other list tags, so a revalidated
    list never keeps a cursor that the serving process would refuse."""
    return hashlib.blake2b(secret.encode(), digest_size=16, person=b"backcare-etag").digest()


def current_snapshot(runtime: Runtime) -> Catalogue | None:
    try:
        catalogue: Catalogue = runtime.catalogue_store.current()
    except DatabaseUnavailableError:
        return None  # the route answers 503
    return catalogue


LEFT_TO_THE_ROUTE: tuple[type[Exception], ...] = (
    ApiError,
    DatabaseUnavailableError,
    *DRIVER_UNAVAILABLE_ERRORS,
)


async def routine_exists(runtime: Runtime | None, path: str) -> bool:
    """Whether the routine a path names (not its feedback) is stored and not deleted: its 304
    needs no route, while an unknown, deleted or unreadable one is left to the route, which
    answers 404, 410 or 503. (The lookup is the routine read's own, cached for a second.)"""
    routine_id = path[len(ROUTINE_PREFIX) :]
    if runtime is None or "/" in routine_id:
        return False
    try:
        await runtime.routines.body(routine_id)
    except LEFT_TO_THE_ROUTE:
        return False
    return True


class CompressedBodies:
    """Gzip bytes of cacheable bodies, each made once per (catalogue revision, path, ETag)."""

    def __init__(self, size: int = COMPRESSED_BODIES) -> None:
        self._bodies: LruCache[tuple[int | None, str, str], bytes] = LruCache(size)

    def get(self, key: tuple[int | None, str, str], body: bytes) -> bytes:
        compressed = self._bodies.get(key)
        if compressed is None:
            compressed = compress(body)
            self._bodies.put(key, compressed)
        return compressed


class HttpCaching:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.compressing = GZipMiddleware(
            app,
            minimum_size=MINIMUM_COMPRESSED_BYTES,
            compresslevel=6,
            exclude_content_types=NOT_COMPRESSED,
        )
        self.compressed = CompressedBodies()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        if method not in ("GET", "HEAD"):
            await self.compressing(scope, receive, never_stored(send))
            return
        if method == "HEAD":
            scope = {**scope, "method": "GET"}
        policy = policy_for(scope["path"])
        exchange = Exchange(scope, policy, send, method == "HEAD", self.compressed)
        runtime: Runtime | None = getattr(scope["app"].state, "runtime", None)
        if policy.pin_catalogue and runtime is not None:
            catalogue = current_snapshot(runtime)
            if catalogue is not None:
                scope[PINNED_CATALOGUE] = catalogue
                exchange.revision = catalogue.revision
                if policy.tag is TagSource.CATALOGUE:
                    key = cursor_key(runtime.signing.cursors)
                    exchange.tag = catalogue_tag(catalogue.revision, scope["query_string"], key)
                    if exchange.known_to_client():
                        await exchange.not_modified([])
                        return
        elif policy.tag is TagSource.ROUTINE:
            exchange.tag = routine_tag(scope["path"])
            if (
                not scope["query_string"]
                and exchange.known_to_client()
                and await routine_exists(runtime, scope["path"])
            ):
                await exchange.not_modified([])
                return
        app = self.app if policy.compress_once else self.compressing
        await app(scope, receive, exchange.send)


def never_stored(send: Send) -> Send:
    async def send_no_store(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = replaced(
                list(message.get("headers", [])), b"cache-control", NO_STORE.encode()
            )
        await send(message)

    return send_no_store


class Exchange:
    """One GET (or HEAD) on its way out: holds the response's start until its body is known."""

    def __init__(
        self,
        scope: Scope,
        policy: PathPolicy,
        send: Send,
        head: bool,
        compressed: CompressedBodies,
    ) -> None:
        self.path: str = scope["path"]
        self.policy = policy
        self.downstream = send
        self.head = head
        self.compressed = compressed
        self.headers = request_headers(scope)
        self.tag: str | None = None
        self.revision: int | None = None
        self.start: Message | None = None

    def known_to_client(self) -> bool:
        """A catalogue read the client holds: answered before the route runs. `*` and an Accept
        the route might refuse (406) go to the route, which decides."""
        if_none_match = self.headers.get(b"if-none-match")
        return (
            self.tag is not None
            and if_none_match is not None
            and if_none_match.strip() != "*"
            and matches_weakly(if_none_match, self.tag)
            and accepts(self.headers.get(b"accept"), JSON_MEDIA_TYPES)
        )

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.start = message
            return
        if message["type"] != "http.response.body":
            await self.downstream(message)
            return
        if self.start is not None:
            start, self.start = self.start, None
            if message.get("more_body", False):
                self.finish_headers(start, None)
                await self.downstream(start)
            else:
                await self.respond(start, message.get("body", b""))
                return
        await self.downstream({**message, "body": b""} if self.head else message)

    def finish_headers(self, start: Message, body: bytes | None) -> dict[bytes, bytes]:
        """Cache-Control, Vary and ETag added to `start`; returns its headers by name."""
        raw: list[tuple[bytes, bytes]] = list(start["headers"])
        found = {name.lower(): value for name, value in raw}
        status = start["status"]
        if status >= 400:
            start["headers"] = replaced(raw, b"cache-control", NO_STORE.encode())
            return found
        if b"cache-control" not in found:
            raw.append((b"cache-control", self.policy.cache_control.encode()))
        vary = merged_vary(found.get(b"vary"), self.policy.vary)
        if vary is not None:
            raw = replaced(raw, b"vary", vary)
        if status == 200 and b"etag" not in found:
            tag = self.tag or (None if body is None else body_tag(body))
            if tag is not None:
                found[b"etag"] = tag.encode()
                raw.append((b"etag", found[b"etag"]))
        start["headers"] = raw
        return found

    async def respond(self, start: Message, body: bytes) -> None:
        found = self.finish_headers(start, body)
        etag = found.get(b"etag")
        if start["status"] == 200 and etag is not None:
            tag = etag.decode("latin-1")
            if_none_match = self.headers.get(b"if-none-match")
            if if_none_match is not None and matches_weakly(if_none_match, tag):
                await self.not_modified(start["headers"])
                return
            if (
                self.policy.compress_once
                and b"content-encoding" not in found
                and len(body) >= MINIMUM_COMPRESSED_BYTES
                and accepts_gzip(self.headers.get(b"accept-encoding"))
                and compressible(found.get(b"content-type"))
            ):
                body = self.compressed.get((self.revision, self.path, tag), body)
                raw = replaced(start["headers"], b"content-length", str(len(body)).encode())
                start["headers"] = [*raw, (b"content-encoding", b"gzip")]
        await self.downstream(start)
        await self.downstream({"type": "http.response.body", "body": b"" if self.head else body})

    async def not_modified(self, raw_headers: list[tuple[bytes, bytes]]) -> None:
        kept = [(name, value) for name, value in raw_headers if name in NOT_MODIFIED_HEADERS]
        names = {name for name, _ in kept}
        if b"etag" not in names and self.tag is not None:
            kept.append((b"etag", self.tag.encode()))
        if b"cache-control" not in names:
            kept.append((b"cache-control", self.policy.cache_control.encode()))
        if b"vary" not in names and self.policy.vary:
            kept.append((b"vary", ", ".join(self.policy.vary).encode()))
        await self.downstream({"type": "http.response.start", "status": 304, "headers": kept})
        await self.downstream({"type": "http.response.body", "body": b""})


# --- If-Match ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class IfMatch:
    """What an If-Match header asks: any current representation (`*`), or one whose strong tag
    is in `tags` (RFC 9110 13.1.1: a weak tag never matches)."""

    any: bool
    tags: frozenset[str]


def parse_if_match(header: str | None) -> IfMatch:
    """428 without the header, 400 when it is not a list of entity tags."""
    if header is None:
        raise PreconditionRequiredError(
            "Send If-Match with the exercise's ETag, so a concurrent edit is never overwritten."
        )
    if not ENTITY_TAG_LIST.fullmatch(header):
        raise InvalidParameterError(
            'If-Match must be `*` or a comma-separated list of entity tags such as "3".',
            [FieldError(location="header", field="If-Match", message="not an entity tag list")],
        )
    etags = parse_etags(header)
    return IfMatch(any=etags.star_tag, tags=frozenset(etags.as_set()))


# --- OpenAPI ----------------------------------------------------------------------------------

HEADER_DOCS: dict[str, dict[str, Any]] = {
    "ETag": {
        "description": "A strong entity tag (an exercise's is its version, `W/` under /fhir). "
        "Send it back in If-None-Match for a 304, or in If-Match to edit.",
        "required": True,
        "schema": {"type": "string"},
    },
    "Cache-Control": {
        "description": f"`{PUBLIC}` for public reads, `{PRIVATE_IMMUTABLE}` for a routine, its "
        f"feedback and handouts, `{NO_STORE}` for administration, writes and every error.",
        "required": True,
        "schema": {"type": "string"},
    },
    "Vary": {
        "description": "The request headers the answer depends on (Accept-Encoding; Accept for "
        "handouts; Authorization for administration; Origin for browsers).",
        "schema": {"type": "string"},
    },
}
IF_NONE_MATCH_PARAMETER = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": "ETags the client holds (a comma-separated list, or `*`): when one is "
    "current, the answer is 304 with no body.",
    "schema": {"type": "string"},
}


def header_refs(*names: str) -> dict[str, Any]:
    """References to HEADER_DOCS; whether each is always sent is said there, since a reference
    object takes no `required` beside it (OpenAPI 3.1, 4.8.23)."""
    return {name: {"$ref": f"#/components/headers/{name}"} for name in names}


def document_caching(schema: dict[str, Any]) -> dict[str, Any]:
    """Declare the caching headers on every operation: ETag and Vary on GET's answers, a 304,
    `If-None-Match`, and Cache-Control on every response (what a route declares itself stays)."""
    schema.setdefault("components", {})["headers"] = HEADER_DOCS
    for operations in schema.get("paths", {}).values():
        for method, operation in operations.items():
            responses: dict[str, Any] = operation.get("responses", {})
            if method == "get":
                responses.setdefault(
                    "304", {"description": "Not modified: a tag in If-None-Match is current"}
                )
            for status, response in responses.items():
                names: tuple[str, ...] = ("Cache-Control",)
                if method == "get" and (status.startswith("2") or status == "304"):
                    names = ("ETag", "Cache-Control", "Vary")
                headers = response.setdefault("headers", {})
                for name, declaration in header_refs(*names).items():
                    headers.setdefault(name, declaration)
            if method != "get":
                continue
            parameters = operation.setdefault("parameters", [])
            if not any(p.get("name", "").lower() == "if-none-match" for p in parameters):
                parameters.append(IF_NONE_MATCH_PARAMETER)
    return schema
