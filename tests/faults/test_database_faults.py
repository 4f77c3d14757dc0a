"""A sick PostgreSQL is an answered error, never a hang: down, the server answers 503 with
Retry-After on the same keep-alive connection and logs one line per failure; frozen (packets
stop, sockets stay open), every answer still comes within the configured bounds, and the
process recovers by itself once the path thaws."""

import socket
import time
import uuid

import httpx
import orjson

from tests.faults.conftest import ServerProcess, TcpProxy, through

PROFILE = b'{"sensitivity": "flexion_sensitive"}'
JSON = {"content-type": "application/json"}
SHORT_BOUNDS = {
    "database_connect_timeout_seconds": "2",
    "database_checkout_timeout_seconds": "1",
    "database_statement_timeout_seconds": "1",
    "database_hold_timeout_seconds": "1",
    "catalogue_max_age_seconds": "1",
}
ANSWER_BOUND_SECONDS = 10.0
"""Generous over the worst case of the bounds above (a 1 s hold cut, then a 2 s connect)."""


def exchange(sock: socket.socket, method: str, path: str, body: bytes = b"") -> httpx.Response:
    """One HTTP/1.1 request and its response on an already open socket (kept alive)."""
    head = f"{method} {path} HTTP/1.1\r\nHost: test\r\nContent-Length: {len(body)}\r\n"
    if body:
        head += "Content-Type: application/json\r\n"
    sock.sendall(head.encode() + b"\r\n" + body)
    received = b""
    while b"\r\n\r\n" not in received:
        received += receive(sock)
    head_bytes, rest = received.split(b"\r\n\r\n", 1)
    status_line, *header_lines = head_bytes.decode().split("\r\n")
    headers = dict(line.split(": ", 1) for line in header_lines)
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        rest += receive(sock)
    return httpx.Response(int(status_line.split()[1]), headers=headers, content=rest)


def receive(sock: socket.socket) -> bytes:
    chunk = sock.recv(65536)
    assert chunk, "the server closed the connection"
    return chunk


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) > 0
    assert response.json()["status"] == 503
    assert "SELECT" not in response.text


def test_database_down_answers_503_on_the_same_connection(
    proxy: TcpProxy, fresh_database_url: str, server_factory: type[ServerProcess]
) -> None:
    server = server_factory(through(proxy, fresh_database_url), **SHORT_BOUNDS)
    server.start()
    proxy.cut()
    with socket.create_connection(("127.0.0.1", server.port), timeout=ANSWER_BOUND_SECONDS) as sock:
        failures = [
            exchange(sock, "POST", "/v1/routines", PROFILE),
            exchange(sock, "GET", f"/v1/routines/{uuid.uuid4()}"),
            exchange(sock, "GET", "/readyz"),
        ]
        from_snapshot = exchange(sock, "GET", "/v1/exercises")
        proxy.restore()
        created = exchange(sock, "POST", "/v1/routines", PROFILE)
    for failure in failures:
        assert_unavailable(failure)
    assert from_snapshot.status_code == 200
    assert created.status_code == 201
    server.stop()
    log = server.log()
    assert "Traceback" not in log
    assert sum(" 503 on " in line for line in log.splitlines()) == 2, log  # readyz: no log


def test_frozen_path_answers_within_the_bound_and_recovers(
    proxy: TcpProxy, fresh_database_url: str, server_factory: type[ServerProcess]
) -> None:
    server = server_factory(through(proxy, fresh_database_url), **SHORT_BOUNDS)
    server.start()
    with httpx.Client(base_url=server.base, timeout=ANSWER_BOUND_SECONDS) as client:
        assert client.post("/v1/routines", content=PROFILE, headers=JSON).status_code == 201
        proxy.freeze()
        assert_unavailable(client.post("/v1/routines", content=PROFILE, headers=JSON))
        assert_unavailable(client.get(f"/v1/routines/{uuid.uuid4()}"))
        assert_unavailable(client.get("/readyz"))
        assert client.get("/v1/exercises").status_code == 200

        proxy.thaw()
        deadline = time.monotonic() + ANSWER_BOUND_SECONDS
        while client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, "not ready again after the path thawed"
            time.sleep(0.1)
        created = client.post("/v1/routines", content=PROFILE, headers=JSON)
        assert created.status_code == 201
        read_back = client.get(created.headers["location"])
        assert orjson.loads(read_back.content) == created.json()

        proxy.freeze()
        assert_unavailable(client.get("/readyz"))
    assert server.process is not None
    server.process.terminate()
    server.process.wait(timeout=ANSWER_BOUND_SECONDS)
    assert "Traceback" not in server.log()
