"""Several API processes on one database: a change made elsewhere shows within one second."""

import shutil
import time
from pathlib import Path

import httpx
import yaml

from app.cli import seed_database

PROJECT = Path(__file__).resolve().parents[2]
VISIBILITY_BOUND_SECONDS = 1.0


def test_change_by_another_process_is_visible_within_a_second(
    live_server: str, fresh_database_url: str, tmp_path: Path
) -> None:
    seed = tmp_path / "seed"
    shutil.copytree(PROJECT / "seed", seed)
    path = seed / "exercises" / "cat-stretch.yaml"
    document = yaml.safe_load(path.read_text())
    document["name"] = "Cat stretch, renamed elsewhere"
    path.write_text(yaml.safe_dump(document))
    assert httpx.get(f"{live_server}/v1/exercises/cat-stretch").json()["version"] == 1

    seed_database(fresh_database_url, seed)
    committed = time.monotonic()
    while time.monotonic() - committed < 5:
        detail = httpx.get(f"{live_server}/v1/exercises/cat-stretch").json()
        if detail["name"] == document["name"]:
            break
        time.sleep(0.02)
    elapsed = time.monotonic() - committed
    assert detail["name"] == document["name"]
    assert detail["version"] == 2
    assert elapsed <= VISIBILITY_BOUND_SECONDS, f"visible after {elapsed:.2f}s"
