"""A bad DATABASE_URL or an unreachable database stops start-up with one clear line."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.core.settings import Settings
from app.core.startup import StartupError, connect_or_explain
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
