"""Every answer names its request: the client's X-Request-ID or one made for it, echoed, in
problem documents and at the end of the log lines written while answering it."""

import logging
import re

import pytest
from fastapi.testclient import TestClient
from uvicorn.logging import AccessFormatter

from app.core.request_ids import RequestIdInLog, current_request_id, log_config


def test_a_clients_id_is_echoed_and_named_in_its_problem(client: TestClient) -> None:
    ok = client.get("/v1/sources", headers={"X-Request-ID": "integrator-call-42"})
    assert ok.headers["x-request-id"] == "integrator-call-42"
    refused = client.get("/v1/exercises?saftey_for=x", headers={"X-Request-ID": "call-43"})
    assert refused.status_code == 400
    assert refused.headers["x-request-id"] == "call-43"
    assert refused.json()["request_id"] == "call-43"


@pytest.mark.parametrize("sent", [None, b"has a space", b"x" * 129, "caf\u00e9".encode()])
def test_without_a_usable_id_one_is_made(client: TestClient, sent: bytes | None) -> None:
    headers = {} if sent is None else {b"X-Request-ID": sent}
    first = client.get("/v1/routines/nothing-here", headers=headers)
    second = client.get("/v1/routines/nothing-here", headers=headers)
    assert first.status_code == 404
    made = first.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    assert first.json()["request_id"] == made
    assert second.headers["x-request-id"] != made


def test_every_answer_carries_it(client: TestClient) -> None:
    for response in (
        client.head("/v1/exercises"),
        client.get("/v1/exercises", headers={"If-None-Match": "*"}),
        client.delete("/v1/sources"),
        client.get("/fhir/r4/metadata"),
    ):
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"]), response


def test_the_access_line_and_the_apps_lines_end_with_it() -> None:
    access = log_config()["formatters"]["access"]
    assert access["()"] == "uvicorn.logging.AccessFormatter"
    formatter = AccessFormatter(fmt=access["fmt"], use_colors=False)
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/v1/sources", "1.1", 200),
        None,
    )
    token = current_request_id.set("call-44")
    try:
        RequestIdInLog().filter(record)
    finally:
        current_request_id.reset(token)
    assert formatter.format(record).endswith('"GET /v1/sources HTTP/1.1" 200 OK request_id=call-44')
    outside = logging.LogRecord("app", logging.INFO, __file__, 1, "refreshed", None, None)
    RequestIdInLog().filter(outside)
    assert getattr(outside, "request_id", None) == "-"
