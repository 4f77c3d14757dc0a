"""A client that drops its connection halfway through a body: one INFO line, no traceback."""

import asyncio
import logging

import pytest
from starlette.types import Message, Receive, Scope, Send

from app.core.limits import BodySizeLimit


def test_a_client_gone_mid_body_is_one_info_line(caplog: pytest.LogCaptureFixture) -> None:
    reached: list[Scope] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        reached.append(scope)
        await receive()

    messages: list[Message] = [
        {"type": "http.request", "body": b'{"minutes": ', "more_body": True},
        {"type": "http.disconnect"},
    ]

    async def receive() -> Message:
        return messages.pop(0)

    async def send(message: Message) -> None:
        raise AssertionError("nothing is sent to a client that left")

    scope: Scope = {"type": "http", "method": "POST", "path": "/v1/routines", "headers": []}
    caplog.set_level(logging.DEBUG)
    asyncio.run(BodySizeLimit(app, max_bytes=1024)(scope, receive, send))
    assert reached == [], "the app never sees half a body"
    [record] = [record for record in caplog.records if record.name == "app.limits"]
    assert record.levelno == logging.INFO
    assert "went away after 12 bytes" in record.getMessage()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
