"""A sick PostgreSQL is an answered error, never a hang: down, the server answers 503 with
Retry-After on the same keep-alive connection and logs one line per failure; frozen (packets
stop, sockets stay open), every answer still comes within the configured bounds, and the
process recovers by itself once the path thaws."""

import contextlib
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy.engine import make_url

PROFILE = b'{"sensitivity": "flexion_sensitive"}'
JSON = {"content-type": "application/json"}
FORM = "application/x-www-form-urlencoded"
SHORT_BOUNDS = {
    "database_connect_timeout_seconds": "2",
    "database_checkout_timeout_seconds": "1",
    "database_statement_timeout_seconds": "1",
    "database_hold_timeout_seconds": "1",
    "catalogue_max_age_seconds": "1",
}
ANSWER_BOUND_SECONDS = 10.0
"""Generous over the worst case of the bounds above (a 1 s hold cut, then a 2 s connect)."""


class TcpProxy:
    """Forwards 127.0.0.1:port to a target, one pair of threads per connection."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._flowing = threading.Event()
        self._flowing.set()
        self._refusing = False
        self._closed = False
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def freeze(self) -> None:
        """Stop forwarding bytes (and connecting upstream); every socket stays open."""
        self._flowing.clear()

    def thaw(self) -> None:
        self._flowing.set()

    def cut(self) -> None:
        """Drop every connection and refuse new ones, as when the database is down."""
        self._refusing = True
        self._drop_all()

    def restore(self) -> None:
        self._refusing = False

    def close(self) -> None:
        self._closed = True
        self._refusing = True
        self._flowing.set()
        self._listener.close()
        self._drop_all()

    def _drop_all(self) -> None:
        with self._lock:
            for sock in self._sockets:
                shut_down(sock)
                sock.close()
            self._sockets.clear()

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.add(sock)

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self._refusing:
                client.close()
                continue
            self._track(client)
            threading.Thread(target=self._connect, args=(client,), daemon=True).start()

    def _connect(self, client: socket.socket) -> None:
        self._flowing.wait()
        try:
            upstream = socket.create_connection(self.target)
        except OSError:
            client.close()
            return
        self._track(upstream)
        threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()
        threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                self._flowing.wait()
                if self._refusing:
                    break
                sink.sendall(data)
        except OSError:
            pass
        for sock in (source, sink):
            shut_down(sock)


def shut_down(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def proxy(store: Any) -> Iterator[TcpProxy]:
    """A proxy to the PostgreSQL server of the `store` (PostgreSQL only: a path to freeze)."""
    if store.kind != "postgres":
        pytest.skip("needs PostgreSQL: a network path to freeze")
    url = make_url(store.admin_url)
    made = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    yield made
    made.close()


def through(proxy: TcpProxy, database_url: str) -> str:
    """The same database, reached through the proxy."""
    return (
        make_url(database_url)
        .set(host="127.0.0.1", port=proxy.port)
        .render_as_string(hide_password=False)
    )


def exchange(
    sock: socket.socket,
    method: str,
    path: str,
    body: bytes = b"",
    content_type: str = "application/json",
) -> httpx.Response:
    """One HTTP/1.1 request and its response on an already open socket (kept alive)."""
    head = f"{method} {path} HTTP/1.1\r\nHost: test\r\nContent-Length: {len(body)}\r\n"
    if body:
        head += f"Content-Type: {content_type}\r\n"
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
    proxy: TcpProxy, fresh_database_url: str, server_process: Any
) -> None:
    server = server_process(through(proxy, fresh_database_url), **SHORT_BOUNDS)
    server.start()
    proxy.cut()
    with socket.create_connection(("127.0.0.1", server.port), timeout=ANSWER_BOUND_SECONDS) as sock:
        failures = [
            exchange(sock, "POST", "/v1/routines", PROFILE),
            exchange(sock, "GET", f"/v1/routines/{uuid.uuid4()}"),
            exchange(sock, "GET", "/readyz"),
        ]
        admin_page = exchange(sock, "POST", "/admin/login", b"key=k", FORM)
        from_snapshot = exchange(sock, "GET", "/v1/exercises")
        proxy.restore()
        created = exchange(sock, "POST", "/v1/routines", PROFILE)
    for failure in failures:
        assert_unavailable(failure)
    assert admin_page.status_code == 503
    assert admin_page.headers["content-type"].startswith("text/html")
    assert int(admin_page.headers["retry-after"]) > 0
    assert from_snapshot.status_code == 200
    assert created.status_code == 201
    server.stop()
    log = server.log()
    assert "Traceback" not in log
    assert sum(" 503 on " in line for line in log.splitlines()) == 3, log  # readyz: no log


def test_frozen_path_answers_within_the_bound_and_recovers(
    proxy: TcpProxy, fresh_database_url: str, server_process: Any
) -> None:
    server = server_process(through(proxy, fresh_database_url), **SHORT_BOUNDS)
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
        assert orjson.loads(read_back.content) == {
            name: value for name, value in created.json().items() if name != "delete_token"
        }

        proxy.freeze()
        assert_unavailable(client.get("/readyz"))
    assert server.process is not None
    server.process.terminate()
    server.process.wait(timeout=ANSWER_BOUND_SECONDS)
    assert "Traceback" not in server.log()
