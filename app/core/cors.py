"""CORS with separate policies for reads and writes: by default any origin may read, none may
write (writes come from servers and the admin UI, which is same-origin)."""

from collections.abc import Sequence

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

READ_METHODS = frozenset({"GET", "HEAD"})
ALLOWED_HEADERS = "Authorization, Content-Type, If-Match"
EXPOSED_HEADERS = "ETag, Link, Location"
PREFLIGHT_MAX_AGE_SECONDS = "600"


class CorsPolicy:
    def __init__(
        self, app: ASGIApp, read_origins: Sequence[str], write_origins: Sequence[str]
    ) -> None:
        self.app = app
        self.read_origins = frozenset(read_origins)
        self.write_origins = frozenset(write_origins)

    def allowed_origin(self, origin: str, method: str) -> str | None:
        """The Access-Control-Allow-Origin value for this origin and method, or None."""
        origins = self.read_origins if method in READ_METHODS else self.write_origins
        if "*" in origins:
            return "*" if method in READ_METHODS else origin
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
            await self._preflight(origin, requested.upper(), send)
            return
        allowed = self.allowed_origin(origin, scope["method"])

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start" and allowed is not None:
                response_headers = MutableHeaders(scope=message)
                response_headers["Access-Control-Allow-Origin"] = allowed
                response_headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
                response_headers.add_vary_header("Origin")
            await send(message)

        await self.app(scope, receive, send_with_cors)

    async def _preflight(self, origin: str, method: str, send: Send) -> None:
        allowed = self.allowed_origin(origin, method)
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
