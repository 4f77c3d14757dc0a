"""Fault tests: a real server process, and a TCP proxy between it and PostgreSQL that can be
frozen (packets stop, sockets stay open) or cut (every connection dropped, new ones refused)."""

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.conftest import Store, free_port

PROJECT = Path(__file__).resolve().parents[2]


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
                with_quiet(sock.shutdown, socket.SHUT_RDWR)
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
            with_quiet(sock.shutdown, socket.SHUT_RDWR)


def with_quiet(action: object, *arguments: object) -> None:
    try:
        action(*arguments)  # type: ignore[operator]
    except OSError:
        pass


@pytest.fixture
def postgres_store(store: Store) -> Store:
    if store.kind != "postgres":
        pytest.skip("needs PostgreSQL: a network path to freeze")
    return store


@pytest.fixture
def proxy(postgres_store: Store) -> Iterator[TcpProxy]:
    assert postgres_store.admin_url is not None
    url = make_url(postgres_store.admin_url)
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


class ServerProcess:
    """`python -m uvicorn app.main:app` on a free port, its stderr kept for the test to read."""

    def __init__(self, database_url: str, log_path: Path, **settings: str) -> None:
        self.database_url = database_url
        self.log_path = log_path
        self.settings = settings
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [sys.executable, "-m", "uvicorn", "app.main:app", "--log-level", "warning"]
        environment = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            **{name.upper(): value for name, value in self.settings.items()},
        }
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [*command, "--host", "127.0.0.1", "--port", str(self.port)],
                cwd=PROJECT,
                env=environment,
                stderr=log,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/readyz").status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.05)
        raise AssertionError(f"server did not start: {self.log()}")

    def log(self) -> str:
        return self.log_path.read_text()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[type[ServerProcess]]:
    started: list[ServerProcess] = []

    class Tracked(ServerProcess):
        def __init__(self, database_url: str, **settings: str) -> None:
            super().__init__(database_url, tmp_path / f"server-{len(started)}.log", **settings)
            started.append(self)

    yield Tracked
    for server in started:
        if server.process is not None and server.process.poll() is None:
            server.process.kill()
            server.process.wait()
