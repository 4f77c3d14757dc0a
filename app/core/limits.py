"""Request body size and time limits, enforced before the application sees the body."""

import asyncio
import logging
import re

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import (
    FHIR_CONTENT_TYPE,
    FHIR_PATH_PREFIX,
    PROBLEM_MEDIA_TYPE,
    PROBLEM_TYPE_BASE,
    ContentTooLargeError,
    RequestTimeoutError,
    operation_outcome,
)
from app.core.request_ids import current_request_id

logger = logging.getLogger("app.limits")
BODYLESS_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})


class BodySizeLimit:
    """Answers 413 problem+json (an OperationOutcome under /fhir/) when a body is over
    `max_bytes`, whether the Content-Length says so or the body turns out longer while it
    streams, and 408 when the whole body has not arrived within `timeout_seconds` (a client
    sending half a body would otherwise hold its connection and its request for ever). Bodies
    within the limits are buffered once and handed on unchanged."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        larger_limits: dict[str, int] | None = None,
        timeout_seconds: float = 30.0,
        larger_limit_patterns: dict[str, int] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger_limits = larger_limits or {}
        self.larger_limit_patterns = [
            (re.compile(pattern), limit) for pattern, limit in (larger_limit_patterns or {}).items()
        ]
        self.timeout_seconds = timeout_seconds

    def limit_for(self, path: str) -> int:
        """The path's own limit (exact, else the first pattern matching it whole), or the
        default."""
        exact = self.larger_limits.get(path)
        if exact is not None:
            return exact
        for pattern, limit in self.larger_limit_patterns:
            if pattern.fullmatch(path):
                return limit
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in BODYLESS_METHODS:
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, send, 413, f"The body is over the limit of {limit} bytes.")
            return
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self.timeout_seconds):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        went_away(scope, size)
                        return
                    if message["type"] != "http.request":
                        await self.app(scope, _replay(message, receive), send)
                        return
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > limit:
                        detail = f"The body is over the limit of {limit} bytes."
                        await self._refuse(scope, send, 413, detail)
                        return
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        break
        except TimeoutError:
            detail = f"The body did not arrive within {self.timeout_seconds:g} s."
            await self._refuse(scope, send, 408, detail)
            return
        whole: Message = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay(whole, receive), send)

    async def _refuse(self, scope: Scope, send: Send, status: int, detail: str) -> None:
        kind = {408: RequestTimeoutError, 413: ContentTooLargeError}[status]
        media_type = PROBLEM_MEDIA_TYPE
        document = {
            "type": PROBLEM_TYPE_BASE + kind.slug,
            "title": kind.title,
            "status": status,
            "detail": detail,
            "instance": scope["path"],
            "request_id": current_request_id.get(),
        }
        if scope["path"].startswith(FHIR_PATH_PREFIX):  # a FHIR client reads OperationOutcomes
            media_type = FHIR_CONTENT_TYPE
            document = operation_outcome(status, kind.slug, detail, ())
        body = orjson.dumps(document)
        headers = [
            (b"content-type", media_type.encode()),
            (b"content-length", str(len(body)).encode()),
        ]
        if status == 408:
            headers.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def went_away(scope: Scope, received: int) -> None:
    """A client that closes its connection halfway through its body is not an error of ours:
    one INFO line, no traceback, and the app never sees the half body."""
    logger.info(
        "client went away after %d bytes of its body: %s %s",
        received,
        scope["method"],
        scope["path"],
    )


def _replay(first: Message, receive: Receive) -> Receive:
    delivered = False

    async def replaying_receive() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return first
        return await receive()

    return replaying_receive
