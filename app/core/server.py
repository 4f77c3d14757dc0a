"""The HTTP server's own bounds: what uvicorn does not enforce by itself.

uvicorn parses HTTP/1.1 with httptools, which accepts request headers of any size (a 50 MB header
was answered 200, and held in memory while it arrived), and it only times out connections that
sit idle between two complete requests: a connection that opens and sends nothing, or half a
request, is kept for ever. With h11 instead, `h11_max_incomplete_event_size` refuses big headers
but answers 400, not 431, and has the same missing timeout.

`BoundedHttpToolsProtocol` is uvicorn's own httptools protocol with two additions, nothing else:

- the request line and headers of each request may take at most `server_max_header_bytes`;
  past that the server answers 431 problem+json and closes the connection without buffering more;
- they must arrive within `server_header_timeout_seconds` of the connection opening, or of the
  request's first byte on a kept-alive connection; past that the connection is closed with 408.

Keep-alive idle time and the concurrency cap are uvicorn's own settings, passed by
`python -m app serve` (see `uvicorn_options`). Past the cap, uvicorn answers a plain-text 503;
here the request is answered by `concurrency_refusal` instead, a 503 problem+json with
Retry-After, decided by uvicorn's own test (open connections or tasks at the cap).

uvicorn's cap counts every open connection, idle or half-sent, whoever opened it: one host
holding 520 idle sockets made nearly every other client's request a 503. So two more rules apply
when a connection opens:

- one client address may hold at most `server_connections_per_address` connections (proxies
  trusted by `forwarded_allow_ips` excepted: they carry many clients). Past it, one of that
  address's idle connections is closed to make room; with none idle, the new connection is
  answered 503 problem+json and closed;
- at the global cap, an idle kept-alive connection (one between requests, or opened and not yet
  used) is closed to make room, taken from the address holding the most, before uvicorn would
  refuse a request that is actually being made.
"""

import asyncio
import ipaddress
import logging
import weakref
from collections import defaultdict
from http import HTTPStatus
from typing import Any

import orjson
from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from app.core.errors import (
    PROBLEM_MEDIA_TYPE,
    PROBLEM_TYPE_BASE,
    RETRY_AFTER_SECONDS,
    ApiError,
    MalformedRequestError,
    RequestHeaderFieldsTooLargeError,
    RequestTimeoutError,
    ServiceUnavailableError,
)
from app.core.settings import Settings, get_settings

PROTOCOL = "app.core.server:BoundedHttpToolsProtocol"
logger = logging.getLogger("uvicorn.error")


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """The server bounds `python -m app serve` passes to uvicorn."""
    return {
        "http": PROTOCOL,
        "timeout_keep_alive": settings.server_keep_alive_seconds,
        "limit_concurrency": settings.server_limit_concurrency,
    }


def _problem(kind: type[ApiError], detail: str) -> bytes:
    return orjson.dumps(
        {
            "type": PROBLEM_TYPE_BASE + kind.slug,
            "title": kind.title,
            "status": kind.status,
            "detail": detail,
            "request_id": None,  # refused before the request was read: it has no id
        }
    )


CONCURRENCY_REFUSAL = _problem(
    ServiceUnavailableError,
    "The server is at its limit of concurrent connections and requests. Retry after the time in "
    "Retry-After.",
)


async def concurrency_refusal(scope: Scope, receive: Receive, send: Send) -> None:
    """What uvicorn's `service_unavailable` answers past the concurrency cap, as problem+json."""
    headers = [
        (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
        (b"content-length", str(len(CONCURRENCY_REFUSAL)).encode()),
        (b"retry-after", str(RETRY_AFTER_SECONDS).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": CONCURRENCY_REFUSAL})


def _refusal(kind: type[ApiError], detail: str) -> bytes:
    status = kind.status
    body = _problem(kind, detail)
    head = (
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
        f"content-type: {PROBLEM_MEDIA_TYPE}\r\n"
        f"content-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


TOO_MANY_FROM_ONE_ADDRESS = _problem(
    ServiceUnavailableError,
    "This client address has as many connections open as one address may. Reuse them, or "
    "retry after the time in Retry-After.",
)

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted_networks(forwarded_allow_ips: str | None) -> list[IpNetwork] | None:
    """The proxies `forwarded_allow_ips` names, as networks; None when it trusts every address
    (`*`). Names that are not addresses (a Unix socket path) are left out."""
    if forwarded_allow_ips is None:
        return []
    networks = []
    for entry in (part.strip() for part in forwarded_allow_ips.split(",")):
        if entry == "*":
            return None
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            continue
    return networks


class Connections:
    """The open connections of one server, by client address."""

    def __init__(self, per_address: int, trusted: list[IpNetwork] | None) -> None:
        self.per_address = per_address
        self.trusted = trusted
        self.by_address: defaultdict[str, set[BoundedHttpToolsProtocol]] = defaultdict(set)

    def capped(self, address: str) -> bool:
        if self.trusted is None:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return True
        return not any(ip in network for network in self.trusted)

    def add(self, connection: "BoundedHttpToolsProtocol", address: str) -> None:
        self.by_address[address].add(connection)

    def discard(self, connection: "BoundedHttpToolsProtocol", address: str) -> None:
        same = self.by_address.get(address)
        if same is not None:
            same.discard(connection)
            if not same:
                del self.by_address[address]

    def close_idle(
        self, address: str | None = None, keep: "BoundedHttpToolsProtocol | None" = None
    ) -> bool:
        """Close one idle connection other than `keep`: of `address`, or else of the address
        holding the most. False when there is none to close."""
        if address is None:
            candidates = sorted(self.by_address.values(), key=len, reverse=True)
        else:
            candidates = [self.by_address.get(address, set())]
        for connections in candidates:
            for connection in connections:
                if connection is not keep and connection.idle():
                    connection.transport.close()
                    return True
        return False


_CONNECTIONS: "weakref.WeakKeyDictionary[ServerState, Connections]" = weakref.WeakKeyDictionary()


def connections_of(server_state: ServerState) -> Connections:
    """The one `Connections` of the server whose state this is (created on first use)."""
    connections = _CONNECTIONS.get(server_state)
    if connections is None:
        settings = get_settings()
        connections = Connections(
            settings.server_connections_per_address,
            trusted_networks(settings.forwarded_allow_ips),
        )
        _CONNECTIONS[server_state] = connections
    return connections


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = get_settings()
        self.max_header_bytes = settings.server_max_header_bytes
        self.header_timeout = settings.server_header_timeout_seconds
        self.awaiting_headers = True
        self.header_bytes = 0
        self.header_tail = b""
        self.header_timer: asyncio.TimerHandle | None = None
        self.address = ""
        self.open_connections = connections_of(self.server_state)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_timer()
        self.address = self.client[0] if self.client else ""
        if not self._room_for_this_connection():
            logger.warning("Exceeded the connections one address may hold.")
            self._refuse_connection()
            return
        self.open_connections.add(self, self.address)
        limit = self.limit_concurrency
        if limit is not None and self._open_connections() >= limit:
            self.open_connections.close_idle(keep=self)

    def _room_for_this_connection(self) -> bool:
        """Whether this connection's address may open it, once an idle connection of its own
        is closed if it must be."""
        book = self.open_connections
        if not book.capped(self.address):
            return True
        if len(book.by_address.get(self.address, ())) < book.per_address:
            return True
        return book.close_idle(self.address)

    def _refuse_connection(self) -> None:
        self._cancel_header_timer()
        head = (
            "HTTP/1.1 503 Service Unavailable\r\n"
            f"content-type: {PROBLEM_MEDIA_TYPE}\r\n"
            f"content-length: {len(TOO_MANY_FROM_ONE_ADDRESS)}\r\n"
            f"retry-after: {RETRY_AFTER_SECONDS}\r\n"
            "connection: close\r\n\r\n"
        )
        self.transport.write(head.encode("ascii") + TOO_MANY_FROM_ONE_ADDRESS)
        self.transport.close()

    def idle(self) -> bool:
        """Between requests (or opened and not used yet), with nothing of a request received."""
        return (
            self.awaiting_headers
            and self.header_bytes == 0
            and (self.cycle is None or self.cycle.response_complete)
            and not self.pipeline
            and not self.transport.is_closing()
        )

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        self.open_connections.discard(self, self.address)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.awaiting_headers:
            self._arm_header_timer()
            if self._header_size_after(data) > self.max_header_bytes:
                self._refuse(
                    RequestHeaderFieldsTooLargeError,
                    f"The request line and headers are over the limit of "
                    f"{self.max_header_bytes} bytes.",
                )
                return
        super().data_received(data)

    def _header_size_after(self, data: bytes) -> int:
        """The size of the request line and headers so far, counting up to their end if it
        is in `data`, so the check is made before the parser buffers any of it."""
        seen = self.header_tail + data
        end = seen.find(b"\r\n\r\n")
        if end == -1:
            self.header_bytes += len(data)
            self.header_tail = seen[-3:]
            return self.header_bytes
        return self.header_bytes + end + 4 - len(self.header_tail)

    def on_headers_complete(self) -> None:
        self.awaiting_headers = False
        self.header_bytes = 0
        self.header_tail = b""
        self._cancel_header_timer()
        app, limit = self.app, self.limit_concurrency
        if self._at_concurrency_cap():
            logger.warning("Exceeded concurrency limit.")
            self.app = concurrency_refusal
        self.limit_concurrency = None  # decided here, by `_at_concurrency_cap`
        try:
            super().on_headers_complete()  # starts (or queues) this request, or the refusal
        finally:
            self.app, self.limit_concurrency = app, limit

    def _at_concurrency_cap(self) -> bool:
        """uvicorn's own test for its 503 (in its `on_headers_complete`), not counting the
        connections already closing (idle ones closed to make room)."""
        limit = self.limit_concurrency
        return limit is not None and (len(self.tasks) >= limit or self._open_connections() >= limit)

    def _open_connections(self) -> int:
        """The open connections, less those closing; counted one by one only near the cap."""
        limit = self.limit_concurrency
        if limit is None or len(self.connections) < limit:
            return len(self.connections)
        return sum(not connection.transport.is_closing() for connection in self.connections)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self.awaiting_headers = True
        self.header_bytes = 0
        self.header_tail = b""

    def _arm_header_timer(self) -> None:
        if self.header_timer is None:
            self.header_timer = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _cancel_header_timer(self) -> None:
        if self.header_timer is not None:
            self.header_timer.cancel()
            self.header_timer = None

    def _headers_too_slow(self) -> None:
        self.header_timer = None
        if not self.awaiting_headers:
            return
        if self.header_bytes == 0 and self.cycle is None:
            self.transport.close()  # opened and never used: nothing to answer
            return
        self._refuse(
            RequestTimeoutError,
            f"The request's headers did not arrive within {self.header_timeout:g} s.",
        )

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to a request httptools cannot parse, as problem+json rather than
        text/plain."""
        self._refuse(MalformedRequestError, f"The request is not valid HTTP/1.1: {msg}")

    def _refuse(self, kind: type[ApiError], detail: str) -> None:
        self._cancel_header_timer()
        if not self.transport.is_closing():
            self.transport.write(_refusal(kind, detail))
            self.transport.close()
