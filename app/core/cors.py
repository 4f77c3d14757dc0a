"""CORS with two policies, by what a call does rather than by its method:

- public calls: every read, and the writes a person's browser app makes (generating a routine,
  giving feedback on it, deleting it with its delete token). Any origin by default.
- administration: /v1/admin/*, the admin UI and every exercise write (key auth). No origin by
  default: those come from servers and from the admin UI, which is same-origin.
"""

import re
from collections.abc import Sequence

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

READ_METHODS = frozenset({"GET", "HEAD"})
PUBLIC_WRITES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("POST", re.compile(r"/v1/routines")),
    ("POST", re.compile(r"/v1/routines/[^/]+/feedback")),
    ("DELETE", re.compile(r"/v1/routines/[^/]+")),
)
"""The writes any origin may make by default: a routine, its feedback, its deletion."""
ADMIN_PREFIXES = ("/v1/admin/", "/admin/")
ALLOWED_HEADERS = (
    "Authorization, Content-Type, Idempotency-Key, If-Match, If-None-Match, X-Request-ID"
)
EXPOSED_HEADERS = (
    "ETag, Link, Location, Retry-After, Idempotent-Replayed, RateLimit, RateLimit-Policy, "
    "X-Request-ID"
)
PREFLIGHT_MAX_AGE_SECONDS = "600"


def is_public(method: str, path: str) -> bool:
    """Whether the public policy governs this call (else the administration policy does)."""
    if path.startswith(ADMIN_PREFIXES) or path in ("/v1/admin", "/admin"):
        return False
    if method in READ_METHODS:
        return True
    return any(method == allowed and pattern.fullmatch(path) for allowed, pattern in PUBLIC_WRITES)


class CorsPolicy:
    def __init__(
        self, app: ASGIApp, public_origins: Sequence[str], admin_origins: Sequence[str]
    ) -> None:
        self.app = app
        self.public_origins = frozenset(public_origins)
        self.admin_origins = frozenset(admin_origins)

    def allowed_origin(self, origin: str, method: str, path: str) -> str | None:
        """The Access-Control-Allow-Origin value for this origin and call, or None."""
        public = is_public(method, path)
        origins = self.public_origins if public else self.admin_origins
        if "*" in origins:
            return "*" if public else origin
        return origin if origin in origins else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not any(name == b"origin" for name, _ in scope["headers"]):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers["origin"]
        requested = headers.get("access-control-request-method")
        if scope["method"] == "OPTIONS" and requested:
            await self._preflight(origin, requested.upper(), scope["path"], send)
            return
        allowed = self.allowed_origin(origin, scope["method"], scope["path"])

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start" and allowed is not None:
                response_headers = MutableHeaders(scope=message)
                response_headers["Access-Control-Allow-Origin"] = allowed
                response_headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
                response_headers.add_vary_header("Origin")
            await send(message)

        await self.app(scope, receive, send_with_cors)

    async def _preflight(self, origin: str, method: str, path: str, send: Send) -> None:
        allowed = self.allowed_origin(origin, method, path)
        headers = [(b"vary", b"Origin")]
        if allowed is not None:
            methods = "GET, HEAD" if method in READ_METHODS else method
            headers += [
                (b"access-control-allow-origin", allowed.encode()),
                (b"access-control-allow-methods", methods.encode()),
                (b"access-control-allow-headers", ALLOWED_HEADERS.encode()),
                (b"access-control-max-age", PREFLIGHT_MAX_AGE_SECONDS.encode()),
            ]
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
