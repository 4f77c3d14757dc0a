"""A bad DATABASE_URL or an unreachable database stops start-up with one clear line."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.core.settings import Settings
from app.core.startup import StartupError
from app.db.connect import connect_or_explain
from app.main import create_app

PROJECT = Path(__file__).resolve().parents[2]
UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:1/backcare"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("nonsense", "DATABASE_URL is not usable"),
        ("mysql+nodriver://x/y", "DATABASE_URL is not usable"),
        (UNREACHABLE, "database unreachable at postgresql+psycopg://postgres@127.0.0.1:1/backcare"),
        ("postgresql+psycopg://postgres:secret@127.0.0.1:1/backcare", "***"),
    ],
)
def test_connect_or_explain_names_the_problem(url: str, expected: str) -> None:
    with pytest.raises(StartupError) as caught:
        connect_or_explain(url)
    message = str(caught.value)
    assert expected in message
    assert "\n" not in message
    assert "secret" not in message


def bad_urls(tmp_path: Path) -> list[tuple[str, str]]:
    """DATABASE_URLs that cannot work, each with what its one line must say."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    return [
        ("postgresql+psycopg://postgres@127.0.0.1:port/backcare", "DATABASE_URL is not usable"),
        ("mysql://user@127.0.0.1/backcare", "DATABASE_URL is not usable"),
        (f"sqlite:///{blocker}/backcare/api.db", "directory cannot be created"),
    ]


def test_bad_urls_are_one_line_each(tmp_path: Path) -> None:
    for url, expected in bad_urls(tmp_path):
        with pytest.raises(StartupError) as caught:
            connect_or_explain(url)
        assert expected in str(caught.value)
        assert "\n" not in str(caught.value)


@pytest.mark.parametrize("server", [["-m", "app", "serve"], ["-m", "uvicorn", "app.main:app"]])
def test_servers_print_one_line_for_a_bad_url(server: list[str], tmp_path: Path) -> None:
    for url, expected in bad_urls(tmp_path):
        result = subprocess.run(
            [sys.executable, *server, "--port", "1"],
            cwd=PROJECT,
            env={**os.environ, "DATABASE_URL": url},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode != 0
        assert "Traceback" not in result.stderr
        assert expected in result.stderr


def test_app_refuses_to_start_without_a_database() -> None:
    with pytest.raises(StartupError), TestClient(create_app(Settings(database_url=UNREACHABLE))):
        pass


@pytest.mark.parametrize(
    "command",
    [
        ["-m", "app", "migrate"],
        ["-m", "app", "serve", "--port", "1"],
        ["-m", "uvicorn", "app.main:app", "--port", "1"],
    ],
)
def test_commands_print_one_line_not_a_traceback(command: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, *command],
        cwd=PROJECT,
        env={**os.environ, "DATABASE_URL": UNREACHABLE},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert (
        "database unreachable at postgresql+psycopg://postgres@127.0.0.1:1/backcare"
        in result.stderr
    )
