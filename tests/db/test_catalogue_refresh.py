"""Several API processes on one database: a change made elsewhere shows within one second."""

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from app.cli import seed_database

PROJECT = Path(__file__).resolve().parents[2]
VISIBILITY_BOUND_SECONDS = 1.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def server(fresh_database_url: str) -> Iterator[str]:
    """A real uvicorn process serving the fresh database."""
    port = free_port()
    environment = {**os.environ, "DATABASE_URL": fresh_database_url}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=PROJECT,
        env=environment,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{base}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        else:
            raise AssertionError("server did not start")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_change_by_another_process_is_visible_within_a_second(
    server: str, fresh_database_url: str, tmp_path: Path
) -> None:
    seed = tmp_path / "seed"
    shutil.copytree(PROJECT / "seed", seed)
    path = seed / "exercises" / "cat-stretch.yaml"
    document = yaml.safe_load(path.read_text())
    document["name"] = "Cat stretch, renamed elsewhere"
    path.write_text(yaml.safe_dump(document))
    assert httpx.get(f"{server}/v1/exercises/cat-stretch").json()["version"] == 1

    seed_database(fresh_database_url, seed)
    committed = time.monotonic()
    while time.monotonic() - committed < 5:
        detail = httpx.get(f"{server}/v1/exercises/cat-stretch").json()
        if detail["name"] == document["name"]:
            break
        time.sleep(0.02)
    elapsed = time.monotonic() - committed
    assert detail["name"] == document["name"]
    assert detail["version"] == 2
    assert elapsed <= VISIBILITY_BOUND_SECONDS, f"visible after {elapsed:.2f}s"
