"""Test stores. Every test that asks for `database_url` or `client` runs once per store: SQLite
always, PostgreSQL when TEST_DATABASE_URL is set. Each store gets a template database built by the
real migrations and the real seed command once per run; tests that write get a fresh copy."""

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url
from sqlmodel import Session

from app.cli import seed_database
from app.core.security import Role
from app.core.settings import Settings
from app.db.key_queries import create_key
from app.db.migrations import upgrade
from app.db.session import build_engine
from app.main import create_app

PROJECT = Path(__file__).resolve().parents[1]
SEED_DIR = PROJECT / "seed"
SEED_EXERCISE_COUNT = len(
    [p for p in (SEED_DIR / "exercises").glob("*.yaml") if not p.name.endswith(".media.yaml")]
)
DATABASE_PREFIX = os.environ.get("TEST_DATABASE_PREFIX", "backcare_test")
"""Prefix of the PostgreSQL databases a run creates beside TEST_DATABASE_URL's (and drops)."""

# The suite writes far more routines, renders more PDFs, and presents more wrong keys, from one
# client than a person would: rate limits are raised for every app and server it starts.
# tests/api/test_rate_limits.py and tests/api/test_handout_limits.py set their own.
os.environ.setdefault("RATE_LIMIT_ROUTINES", "1000000/minute")
os.environ.setdefault("RATE_LIMIT_AUTH_FAILURES", "1000000/minute")
os.environ.setdefault("RATE_LIMIT_RENDERS", "1000000/minute")
# Refusals are answered at once (tests/api/test_rate_limits.py checks the pause itself).
os.environ.setdefault("RATE_LIMIT_REFUSAL_DELAY_SECONDS", "0")
# Each test starts and stops apps in this one process: freezing the heap at every start would keep
# every earlier app's cycles forever (tests/test_main.py checks the freeze itself).
os.environ.setdefault("FREEZE_HEAP_AT_START", "false")


@dataclass
class Store:
    """One kind of database, able to hand out fresh copies of its seeded template."""

    kind: str
    workdir: Path
    admin_url: str | None = None
    template: str = ""
    created: list[str] = field(default_factory=list)

    def url_for(self, name: str) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.workdir / name}.db"
        assert self.admin_url is not None
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    def create_template(self) -> None:
        self.template = f"{DATABASE_PREFIX}_template_{uuid.uuid4().hex[:8]}"
        if self.kind == "postgres":
            self._admin(f'CREATE DATABASE "{self.template}"')
            self.created.append(self.template)
        url = self.url_for(self.template)
        upgrade(url)
        seed_database(url, SEED_DIR)

    def fresh(self, *, seeded: bool = True) -> str:
        name = f"{DATABASE_PREFIX}_{uuid.uuid4().hex[:8]}"
        if self.kind == "sqlite":
            if seeded:
                shutil.copyfile(self.workdir / f"{self.template}.db", self.workdir / f"{name}.db")
        else:
            template = f' TEMPLATE "{self.template}"' if seeded else ""
            self._admin(f'CREATE DATABASE "{name}"{template}')
            self.created.append(name)
        return self.url_for(name)

    def drop_all(self) -> None:
        for name in reversed(self.created):
            self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _admin_engine(self) -> sa.Engine:
        assert self.admin_url is not None
        return sa.create_engine(self.admin_url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)

    def _admin(self, statement: str) -> None:
        engine = self._admin_engine()
        with engine.connect() as connection:
            connection.execute(sa.text(statement))
        engine.dispose()


@pytest.fixture(scope="session")
def seed_exercise_count() -> int:
    """How many exercises seed/ ships: tests derive counts from it rather than writing them down."""
    return SEED_EXERCISE_COUNT


def store_kinds() -> list[str]:
    return ["sqlite", "postgres"]


@pytest.fixture(scope="session", params=store_kinds())
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    kind: str = request.param
    admin_url = os.environ.get("TEST_DATABASE_URL")
    if kind == "postgres" and not admin_url:
        pytest.skip("TEST_DATABASE_URL is not set: PostgreSQL tests skipped")
    made = Store(kind, tmp_path_factory.mktemp(kind), admin_url if kind == "postgres" else None)
    made.create_template()
    yield made
    made.drop_all()


@pytest.fixture(scope="session")
def database_url(store: Store) -> str:
    """A seeded database shared by the read-only tests of one store."""
    return store.fresh()


@pytest.fixture(scope="session")
def client(database_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=database_url))) as test_client:
        yield test_client


@pytest.fixture
def fresh_database_url(store: Store) -> str:
    """A seeded database of this test's own."""
    return store.fresh()


@pytest.fixture
def empty_database_url(store: Store) -> str:
    """An empty database (no tables) of this test's own."""
    return store.fresh(seeded=False)


@pytest.fixture
def fresh_client(fresh_database_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=fresh_database_url))) as test_client:
        yield test_client


def every_excluded(client: TestClient, routine: dict[str, Any]) -> list[dict[str, Any]]:
    """Every exercise a routine leaves out (it lists the nearest few), from its own pages: the
    fixture `every_excluded` gives tests this function."""
    found: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 7}
        if cursor:
            params["cursor"] = cursor
        response = client.get(f"/v1/routines/{routine['id']}/excluded", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        found += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return found


ExcludedOf = Callable[[TestClient, dict[str, Any]], list[dict[str, Any]]]


@pytest.fixture(scope="session")
def excluded_of() -> ExcludedOf:
    return every_excluded


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def running_server(
    database_url: str, command: list[str] | None = None, **environment: str
) -> Iterator[str]:
    """A real server process on a free loopback port (uvicorn unless `command` names another way
    to start it; `{port}` in it is filled in), serving `database_url`; yields its base URL."""
    port = free_port()
    uvicorn = [sys.executable, "-m", "uvicorn", "app.main:app", "--log-level", "warning"]
    arguments = [*(command or [*uvicorn, "--host", "127.0.0.1", "--port", "{port}"])]
    process = subprocess.Popen(
        [argument.format(port=port) for argument in arguments],
        cwd=PROJECT,
        env={**os.environ, "DATABASE_URL": database_url, **environment},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(base, process)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


SERVER_START_SECONDS = 60.0
"""How long a test waits for a server it started to say ready: generous, for a busy machine."""


def wait_until_ready(base: str, process: "subprocess.Popen[bytes]") -> None:
    """Poll `/readyz` until it answers 200, sleeping between tries whatever the answer (a 503
    while the server warms up is no reason to spin), for at most SERVER_START_SECONDS."""
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited with {process.returncode} before it was ready")
        try:
            if httpx.get(f"{base}/readyz", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"server not ready within {SERVER_START_SECONDS:g} s")


ServerRunner = Callable[..., AbstractContextManager[str]]


@pytest.fixture(scope="session")
def server_runner() -> ServerRunner:
    """`running_server`, for tests that start a server their own way."""
    return running_server


@pytest.fixture
def live_server(fresh_database_url: str) -> Iterator[str]:
    """A real uvicorn process on a free loopback port serving this test's fresh database: what
    a second API process, or a browser, talks to."""
    with running_server(fresh_database_url) as base:
        yield base


class ServerProcess:
    """`python -m uvicorn app.main:app` on a free port with the given settings (as environment
    variables), its stderr kept for the test to read; unlike `running_server`, it can be
    stopped, killed and started again on the same database."""

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
        try:
            wait_until_ready(self.base, self.process)
        except AssertionError as error:
            raise AssertionError(f"{error}: {self.log()}") from None

    def log(self) -> str:
        return self.log_path.read_text()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, as when the machine or the OOM killer ends it."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=30)


@pytest.fixture
def server_process(tmp_path: Path) -> Iterator[type[ServerProcess]]:
    """Makes ServerProcess objects (log files in this test's tmp_path), killed at the end."""
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


KeyIssuer = Callable[[str, str, Role], dict[str, str]]


def issue_key_headers(url: str, name: str, role: Role) -> dict[str, str]:
    """A new API key of `role` in the database at `url`, as request headers."""
    engine = build_engine(url)
    with Session(engine) as session, session.begin():
        key = create_key(session, name, role)
    engine.dispose()
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="session")
def issue_key() -> KeyIssuer:
    """`issue_key(url, name, role)`: headers carrying a new key."""
    return issue_key_headers
