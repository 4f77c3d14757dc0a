"""A request id on every exchange, so an integrator can quote a failing call and an operator
find it: the client's `X-Request-ID` when it sends a usable one (1 to 128 visible ASCII
characters), otherwise a new one (32 hex digits). It is echoed in the answer's `X-Request-ID`,
named in every problem document (`request_id`) and at the end of the access log line and of
the app's own log lines for that request."""

import copy
import logging
import os
import re
from contextvars import ContextVar
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.config import LOGGING_CONFIG

HEADER = b"x-request-id"
USABLE = re.compile(rb"[!-~]{1,128}")
"""What a client's own id may be: visible ASCII, so it cannot split a log line or a header."""

IN_LOG = " request_id=%(request_id)s"
current_request_id: ContextVar[str | None] = ContextVar("current_request_id", default=None)


def request_id_of(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == HEADER and USABLE.fullmatch(value):
            return str(value, "ascii")
    return os.urandom(16).hex()


class RequestIds:
    """Names each HTTP request (see the module's docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope)
        encoded = request_id.encode("ascii")
        token = current_request_id.set(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != HEADER]
                message["headers"] = [*headers, (HEADER, encoded)]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            current_request_id.reset(token)


class RequestIdInLog(logging.Filter):
    """Gives a record the id of the request being answered when it was logged (`-` outside
    one), for formats that end in ` request_id=%(request_id)s`."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get() or "-"
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's logging configuration with the request id at the end of each access line."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"request_id": {"()": RequestIdInLog}}
    access = config["formatters"]["access"]
    access["fmt"] = f"{access['fmt']}{IN_LOG}"
    config["handlers"]["access"]["filters"] = ["request_id"]
    return config
