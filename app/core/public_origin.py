"""Absolute links name the deployment's public origin, never a client's Host.

Paging `Link` headers, FHIR `fullUrl`s and bundle links are built from the request's URL, which
starlette takes from the `Host` header: any client could make the API hand out links to a host
of its choosing (to itself, to a cache it poisons). With PUBLIC_BASE_URL set, this middleware
gives every request the scheme and host of that URL before anything reads them, so every link,
whoever builds it, names the public origin.
"""

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

DEFAULT_PORTS = {"http": 80, "https": 443}


class PublicOrigin:
    def __init__(self, app: ASGIApp, public_base_url: str) -> None:
        self.app = app
        parts = urlsplit(public_base_url)
        self.scheme = parts.scheme
        self.host_header = parts.netloc.encode("latin-1")
        self.server = (parts.hostname or "", parts.port or DEFAULT_PORTS.get(parts.scheme, 80))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = [(name, value) for name, value in scope["headers"] if name != b"host"]
            scope = {
                **scope,
                "scheme": self.scheme,
                "server": self.server,
                "headers": [(b"host", self.host_header), *headers],
            }
        await self.app(scope, receive, send)
