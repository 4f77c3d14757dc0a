"""Several replicas starting at once: `migrate` and `seed` take turns under one lock per database
(a PostgreSQL advisory lock, a file lock beside a SQLite file), so every one of them succeeds."""

import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from app.db.migrations import head_revision, schema_revision
from app.db.session import build_engine

PROJECT = Path(__file__).resolve().parents[2]
REPLICAS = 3


def start_together(url: str, *commands: list[str]) -> list[subprocess.CompletedProcess[str]]:
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "app", *command],
            cwd=PROJECT,
            env={"DATABASE_URL": url, "PATH": "/usr/bin:/bin"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for command in commands
    ]
    results = []
    for process in processes:
        stdout, stderr = process.communicate(timeout=120)
        results.append(
            subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
        )
    return results


def test_replicas_migrating_and_seeding_at_once_all_succeed(
    empty_database_url: str, seed_exercise_count: int
) -> None:
    migrated = start_together(empty_database_url, *[["migrate"]] * REPLICAS)
    assert [r.returncode for r in migrated] == [0] * REPLICAS, [r.stderr for r in migrated]
    engine = build_engine(empty_database_url)
    assert schema_revision(engine) == head_revision(empty_database_url)

    seeded = start_together(empty_database_url, *[["seed"]] * REPLICAS)
    assert [r.returncode for r in seeded] == [0] * REPLICAS, [r.stderr for r in seeded]
    created = sorted(r.stdout.split("created ")[1].split(",")[0] for r in seeded)
    assert created == ["0"] * (REPLICAS - 1) + [str(seed_exercise_count)]
    with engine.connect() as connection:
        count = connection.execute(sa.text("SELECT count(*) FROM exercise")).scalar_one()
    engine.dispose()
    assert count == seed_exercise_count
