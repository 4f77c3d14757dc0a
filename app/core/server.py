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
"""

import asyncio
import logging
from http import HTTPStatus
from typing import Any

import orjson
from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.core.errors import (
    PROBLEM_MEDIA_TYPE,
    PROBLEM_TYPE_BASE,
    RETRY_AFTER_SECONDS,
    ApiError,
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

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
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
        if not self._at_concurrency_cap():
            super().on_headers_complete()
            return
        logger.warning("Exceeded concurrency limit.")
        app, limit = self.app, self.limit_concurrency
        self.app, self.limit_concurrency = concurrency_refusal, None
        try:
            super().on_headers_complete()  # starts (or queues) this request with the refusal
        finally:
            self.app, self.limit_concurrency = app, limit

    def _at_concurrency_cap(self) -> bool:
        """uvicorn's own test for its 503 (in its `on_headers_complete`)."""
        limit = self.limit_concurrency
        return limit is not None and (len(self.connections) >= limit or len(self.tasks) >= limit)

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

    def _refuse(self, kind: type[ApiError], detail: str) -> None:
        self._cancel_header_timer()
        if not self.transport.is_closing():
            self.transport.write(_refusal(kind, detail))
            self.transport.close()
