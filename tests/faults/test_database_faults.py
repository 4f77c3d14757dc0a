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
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from app.content import importing
from app.core.security import Role
from app.core.settings import Settings
from app.db.session import DatabaseLimits, build_engine, holding_for
from app.main import create_app

PROFILE = b'{"sensitivity": "flexion_sensitive"}'
JSON = {"content-type": "application/json"}
FORM = "application/x-www-form-urlencoded"
SHORT_BOUNDS = {
    "database_connect_timeout_seconds": "2",
    "database_checkout_timeout_seconds": "1",
    "database_statement_timeout_seconds": "1",
    "database_hold_timeout_seconds": "1",
    "database_ping_timeout_seconds": "1",
    "catalogue_max_age_seconds": "1",
}
ANSWER_BOUND_SECONDS = 10.0
"""Generous over the worst case of the bounds above (a 1 s hold cut, then a 2 s connect)."""
FAIL_FAST_SECONDS = 1.0
"""A write while the database is known not to answer: under the 1 s hold bound, so only a write
that did not wait on the database at all answers within it."""


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


def test_writes_fail_fast_while_the_database_is_known_frozen_and_succeed_once_it_thaws(
    proxy: TcpProxy, fresh_database_url: str, server_process: Any
) -> None:
    """Once the catalogue refresher has found the path frozen, a write answers 503 without
    waiting out the ping, hold and connect bounds; the first write after the path thaws is
    stored, without waiting for the refresher to notice."""
    server = server_process(through(proxy, fresh_database_url), **SHORT_BOUNDS)
    server.start()
    with httpx.Client(base_url=server.base, timeout=ANSWER_BOUND_SECONDS) as client:
        assert client.post("/v1/routines", content=PROFILE, headers=JSON).status_code == 201
        proxy.freeze()
        deadline = time.monotonic() + ANSWER_BOUND_SECONDS
        while "catalogue refresh failed" not in server.log():
            assert time.monotonic() < deadline, "the refresher never found the path frozen"
            time.sleep(0.1)
        for _ in range(3):
            started = time.monotonic()
            answer = client.post("/v1/routines", content=PROFILE, headers=JSON)
            took = time.monotonic() - started
            assert_unavailable(answer)
            assert "not answered this server" in answer.json()["detail"]
            assert took < FAIL_FAST_SECONDS, f"a write during the outage took {took:.2f} s"
        proxy.thaw()
        assert client.post("/v1/routines", content=PROFILE, headers=JSON).status_code == 201
    server.stop()
    log = server.log()
    assert "Traceback" not in log
    assert sum("catalogue refresh failed" in line for line in log.splitlines()) == 1, log


@contextlib.contextmanager
def engine_through(proxy: TcpProxy, database_url: str, limits: DatabaseLimits) -> Iterator[Engine]:
    engine = build_engine(through(proxy, database_url), limits)
    try:
        yield engine
    finally:
        proxy.thaw()
        engine.dispose()


def watchdog_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "connection cut" in r.getMessage()]


def test_a_frozen_pooled_connection_fails_its_ping_within_the_ping_bound(
    proxy: TcpProxy, fresh_database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The liveness ping at checkout has its own short bound, not the unit of work's hold."""
    limits = DatabaseLimits(connect_seconds=2, hold_seconds=60, ping_seconds=0.5)
    with engine_through(proxy, fresh_database_url, limits) as engine:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        proxy.freeze()
        started = time.monotonic()
        with pytest.raises(OperationalError), engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        took = time.monotonic() - started
    assert took < 0.5 + 2 + 2, f"{took:.1f} s: the ping waited past its bound"
    [line] = watchdog_lines(caplog)
    assert "liveness ping within 0.5 s" in line


def test_the_watchdog_tells_a_long_transaction_from_a_frozen_path(
    proxy: TcpProxy, fresh_database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A unit of work that declares a longer bound (as an import does) runs past the usual one
    while the database answers each statement; the same unit without it is cut as over-long;
    and a frozen path is cut within the statement timeout and a ping, whatever was declared."""
    limits = DatabaseLimits(connect_seconds=2, statement_seconds=1, hold_seconds=1, ping_seconds=1)

    def long_but_answered(engine: Engine) -> None:
        with engine.begin() as connection:
            for _ in range(5):
                connection.execute(text("SELECT pg_sleep(0.4)"))

    with engine_through(proxy, fresh_database_url, limits) as engine:
        with holding_for(30):
            long_but_answered(engine)
        assert watchdog_lines(caplog) == []

        with pytest.raises(OperationalError):
            long_but_answered(engine)
        [over_long] = watchdog_lines(caplog)
        assert "over-long transaction" in over_long
        assert "past its bound of 1 s" in over_long

        frozen_at: list[float] = []

        def frozen_midway() -> None:
            with holding_for(60), engine.begin() as connection:
                connection.execute(text("SELECT 1"))
                proxy.freeze()
                frozen_at.append(time.monotonic())
                connection.execute(text("SELECT 1"))

        with pytest.raises(OperationalError):
            frozen_midway()
        took = time.monotonic() - frozen_at[0]
    assert took < 1 + 1 + 2, f"{took:.1f} s: the frozen statement waited past its bound"
    frozen = watchdog_lines(caplog)[1]
    assert "no answer to a statement" in frozen
    assert "the path to the database froze" in frozen


def test_an_import_past_the_usual_hold_bound_completes_while_the_database_answers(
    store: Any,
    fresh_database_url: str,
    issue_key: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An import's one transaction declares DATABASE_IMPORT_HOLD_TIMEOUT_SECONDS: made to last
    longer than DATABASE_HOLD_TIMEOUT_SECONDS (its statements slowed, each answered), it is not
    cut."""
    if store.kind != "postgres":
        pytest.skip("the watchdog guards PostgreSQL connections")
    original = importing.import_bundle

    def slowly(session: Any, *arguments: Any) -> Any:
        for _ in range(4):
            session.execute(text("SELECT pg_sleep(0.5)"))
        return original(session, *arguments)

    monkeypatch.setattr(importing, "import_bundle", slowly)
    settings = Settings(
        database_url=fresh_database_url,
        database_hold_timeout_seconds=1,
        database_import_hold_timeout_seconds=30,
    )
    admin = issue_key(fresh_database_url, "admin", Role.admin)
    with TestClient(create_app(settings)) as client:
        bundle = client.get("/v1/admin/export", headers=admin).json()
        imported = client.post("/v1/admin/import", json=bundle, headers=admin)
    assert imported.status_code == 200, imported.text
    assert watchdog_lines(caplog) == []
