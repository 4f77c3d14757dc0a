"""`python -m app serve` bounds every connection: header size (431), header time (408), idle
keep-alive, and a concurrency cap (503). Each test talks to a real server process over sockets."""

import socket
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, suppress

import httpx
import orjson
import pytest

ServerRunner = Callable[..., AbstractContextManager[str]]
LIMITS = {
    "SERVER_MAX_HEADER_BYTES": "8192",
    "SERVER_HEADER_TIMEOUT_SECONDS": "1",
    "SERVER_KEEP_ALIVE_SECONDS": "1",
    "SERVER_LIMIT_CONCURRENCY": "4",
    "REQUEST_BODY_TIMEOUT_SECONDS": "1",
}
WAIT = 20.0
"""How long a test waits for the server to act: a bound on a hang, not a timing assertion."""


SERVE = [sys.executable, "-m", "app", "serve", "--port", "{port}"]


def start(runner: ServerRunner, database_url: str, **limits: str) -> Iterator[tuple[str, int]]:
    with runner(database_url, SERVE, LOG_LEVEL="warning", **limits) as base:
        host, port = base.removeprefix("http://").split(":")
        yield (host, int(port))


@pytest.fixture(scope="module")
def server(server_runner: ServerRunner, database_url: str) -> Iterator[tuple[str, int]]:
    yield from start(server_runner, database_url, **LIMITS)


def exchange(address: tuple[str, int], request: bytes) -> bytes:
    """Send `request`, then read until the server closes the connection."""
    with socket.create_connection(address, timeout=WAIT) as sock:
        sock.sendall(request)
        return read_until_closed(sock)


def read_until_closed(sock: socket.socket) -> bytes:
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def status_and_body(response: bytes) -> tuple[int, bytes]:
    head, _, body = response.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def test_headers_within_the_limit_are_served(server: tuple[str, int]) -> None:
    filler = b"x" * 4000
    response = exchange(
        server,
        b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Fill: " + filler + b"\r\nConnection: close\r\n\r\n",
    )
    assert status_and_body(response)[0] == 200


@pytest.mark.parametrize("where", ["header", "url"])
def test_oversized_headers_are_431_problem_json(server: tuple[str, int], where: str) -> None:
    filler = b"x" * 20_000
    if where == "header":
        request = b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Fill: " + filler + b"\r\n\r\n"
    else:
        request = b"GET /healthz?" + filler + b" HTTP/1.1\r\nHost: t\r\n\r\n"
    status, body = status_and_body(exchange(server, request))
    assert status == 431
    assert orjson.loads(body)["status"] == 431
    assert httpx.get(f"http://{server[0]}:{server[1]}/healthz").status_code == 200


def test_a_header_that_never_ends_is_cut_off_without_buffering_it(
    server: tuple[str, int],
) -> None:
    with socket.create_connection(server, timeout=WAIT) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Fill: ")
        sent = 0
        try:
            while sent < 50_000_000:
                sock.sendall(b"x" * 65536)
                sent += 65536
        except (ConnectionResetError, BrokenPipeError):
            pass  # the server closed the connection while we were still sending
        assert sent < 50_000_000


def test_half_sent_headers_time_out_with_408(server: tuple[str, int]) -> None:
    with socket.create_connection(server, timeout=WAIT) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n")
        status, body = status_and_body(read_until_closed(sock))
    assert status == 408
    assert orjson.loads(body)["type"] == "/problems/request-timeout"


def test_a_half_sent_body_times_out_with_408(server: tuple[str, int]) -> None:
    with socket.create_connection(server, timeout=WAIT) as sock:
        sock.sendall(
            b"POST /v1/routines HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"minutes": '
        )
        status, body = status_and_body(read_until_closed(sock))
    assert status == 408
    assert orjson.loads(body)["type"] == "/problems/request-timeout"


def test_a_connection_that_sends_nothing_is_closed(server: tuple[str, int]) -> None:
    with socket.create_connection(server, timeout=WAIT) as sock:
        assert read_until_closed(sock) == b""


def test_an_idle_kept_alive_connection_is_closed(server: tuple[str, int]) -> None:
    with socket.create_connection(server, timeout=WAIT) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        assert status_and_body(read_until_closed(sock))[0] == 200


def test_past_the_concurrency_cap_requests_are_503(
    server_runner: ServerRunner, database_url: str
) -> None:
    slow_timeouts = {**LIMITS, "SERVER_HEADER_TIMEOUT_SECONDS": "60"}
    for address in start(server_runner, database_url, **slow_timeouts):
        held = [socket.create_connection(address, timeout=WAIT) for _ in range(4)]
        for sock in held:  # requests on their way, not idle connections that could be closed
            sock.sendall(b"GET /healthz HTTP/1.1\r\n")
        try:
            request = b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
            response = exchange(address, request)
            status, body = status_and_body(response)
            assert status == 503
            assert b"content-type: application/problem+json" in response.lower()
            assert b"retry-after: " in response.lower()
            problem = orjson.loads(body)
            assert problem["type"] == "/problems/service-unavailable"
            assert problem["status"] == 503
        finally:
            for sock in held:
                sock.close()
        for _ in range(100):
            if status_and_body(exchange(address, request))[0] == 200:
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the server did not recover when the connections closed")


HALF_A_REQUEST = b"GET /healthz HTTP/1.1\r\n"
HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"


def connect_from(source: str, address: tuple[str, int]) -> socket.socket:
    """A connection from another loopback address (all of 127.0.0.0/8 is this machine): another
    client, as far as the server can tell."""
    return socket.create_connection(address, timeout=WAIT, source_address=(source, 0))


def read_one_response(sock: socket.socket) -> bytes:
    """One response on a kept-alive connection: its head, then Content-Length bytes of body."""
    received = b""
    while b"\r\n\r\n" not in received:
        received += sock.recv(65536)
    head, _, body = received.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


def served_from(source: str, address: tuple[str, int]) -> int:
    with connect_from(source, address) as sock:
        sock.sendall(HEALTHZ)
        return status_and_body(read_until_closed(sock))[0]


def test_one_address_holds_at_most_its_share_of_connections(
    server_runner: ServerRunner, database_url: str
) -> None:
    """One host opening connection after connection (each half a request, so none is idle) gets
    8, the rest 503 and closed at once; another host is still served."""
    caps = {
        **LIMITS,
        "SERVER_HEADER_TIMEOUT_SECONDS": "60",
        "SERVER_LIMIT_CONCURRENCY": "16",
        "SERVER_CONNECTIONS_PER_ADDRESS": "8",
    }
    for address in start(server_runner, database_url, **caps):
        held = []
        try:
            for _ in range(8):
                held.append(connect_from("127.0.0.2", address))
                held[-1].sendall(HALF_A_REQUEST)
            for _ in range(12):
                with connect_from("127.0.0.2", address) as sock:
                    response = read_until_closed(sock)
                status, body = status_and_body(response)
                assert status == 503
                assert b"retry-after: " in response.lower()
                assert orjson.loads(body)["type"] == "/problems/service-unavailable"
            assert [served_from("127.0.0.1", address) for _ in range(5)] == [200] * 5
        finally:
            for sock in held:
                sock.close()


def test_an_address_at_its_share_has_its_idle_connections_closed_to_make_room(
    server_runner: ServerRunner, database_url: str
) -> None:
    caps = {**LIMITS, "SERVER_KEEP_ALIVE_SECONDS": "60", "SERVER_CONNECTIONS_PER_ADDRESS": "3"}
    for address in start(server_runner, database_url, **caps):
        kept = [connect_from("127.0.0.2", address) for _ in range(3)]
        try:
            for sock in kept:  # one request each, then kept alive, idle
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
                assert read_one_response(sock).startswith(b"HTTP/1.1 200")
            assert served_from("127.0.0.2", address) == 200
            closed = 0
            for sock in kept:
                sock.settimeout(0.5)
                with suppress(TimeoutError):
                    closed += sock.recv(1) == b""
            assert closed == 1, "one idle connection made room"
        finally:
            for sock in kept:
                sock.close()


def test_at_the_cap_idle_connections_are_closed_before_a_request_is_refused(
    server_runner: ServerRunner, database_url: str
) -> None:
    """Connections opened and left idle fill the server (4): a request from elsewhere closes
    one of them rather than being refused."""
    caps = {**LIMITS, "SERVER_HEADER_TIMEOUT_SECONDS": "60"}
    for address in start(server_runner, database_url, **caps):
        idle = [connect_from("127.0.0.2", address) for _ in range(4)]
        try:
            assert [served_from("127.0.0.1", address) for _ in range(3)] == [200] * 3
        finally:
            for sock in idle:
                sock.close()


def test_a_request_that_is_not_http_is_a_400_problem(server: tuple[str, int]) -> None:
    response = exchange(server, b"GET /healthz HTTP/1.1\r\nHost: t\r\nNo colon here\r\n\r\n")
    status, body = status_and_body(response)
    assert status == 400
    assert b"content-type: application/problem+json" in response.lower()
    assert orjson.loads(body)["type"] == "/problems/malformed-request"
